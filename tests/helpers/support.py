"""Shared test helpers: run the project's scripts as a user would; read sweeps back from MLflow."""

import os
import subprocess
import sys
from pathlib import Path

from mlflow import MlflowClient
from mlflow.entities import ViewType

REPO = Path(__file__).resolve().parents[1]


def run_script(
    script: str,
    *args: str,
    cwd: Path,
    timeout: float = 240,
    env: dict | None = None,
    check: bool = False,
) -> subprocess.CompletedProcess:
    """`python scripts/<script> args...` in `cwd`; output captured as text."""
    full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    done = subprocess.run(
        [sys.executable, str(REPO / "scripts" / script), *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if check and done.returncode != 0:
        raise AssertionError(
            f"{script} {' '.join(args)} exited {done.returncode}\n"
            f"stdout:\n{done.stdout[-4000:]}\nstderr:\n{done.stderr[-4000:]}"
        )
    return done


def sqlite_uri(folder) -> str:
    return f"sqlite:///{folder}/mlflow.db"


def parents(client: MlflowClient, experiment: str = "gradsweep") -> list:
    found = client.get_experiment_by_name(experiment)
    return client.search_runs(
        [found.experiment_id], filter_string="tags.sweep_id != ''", run_view_type=ViewType.ALL
    )


def children(client: MlflowClient, parent_id: str, experiment: str = "gradsweep") -> list:
    found = client.get_experiment_by_name(experiment)
    return client.search_runs(
        [found.experiment_id],
        filter_string=f"tags.`mlflow.parentRunId` = '{parent_id}'",
        max_results=5000,
    )


def history_steps(client: MlflowClient, run_id: str, key: str = "train_loss") -> list[int]:
    return [m.step for m in client.get_metric_history(run_id, key)]
