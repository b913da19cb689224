"""Shared test helpers: run the project's scripts as a user would; read sweeps back from MLflow."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from mlflow import MlflowClient
from mlflow.entities import ViewType

HELPERS = Path(__file__).resolve().parent
REPO = HELPERS.parents[1]


def script_command(script: str, *args: str) -> list[str]:
    return [sys.executable, str(REPO / "scripts" / script), *args]


def script_env(extra: dict | None = None) -> dict:
    """The environment a script runs in: unbuffered output, and on its PYTHONPATH this
    checkout's packages and this folder's modules (custom_optimizers), as a user's own;
    `extra` variables on top."""
    path = os.pathsep.join(filter(None, [str(HELPERS), str(REPO), os.environ.get("PYTHONPATH")]))
    return {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": path, **(extra or {})}


def run_script(
    script: str,
    *args: str,
    cwd: Path,
    timeout: float = 240,
    env: dict | None = None,
    check: bool = False,
) -> subprocess.CompletedProcess:
    """`python scripts/<script> args...` in `cwd` (with `env` variables added); output captured
    as text."""
    done = subprocess.run(
        script_command(script, *args),
        cwd=cwd,
        env=script_env(env),
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


# About 0.8 s a trial on digits, 3 s for the 8 on 2 CPUs: a sweep that lives long enough
# to be disturbed after its first trials.
DIGITS_GRID = [
    "task=digits_mlp",
    "optimizer=sgd",
    "optimizer.lr=0.01,0.02,0.03,0.05,0.07,0.1,0.15,0.2",
    "trainer.steps=6000",
    "trainer.eval_every=3000",
    "sweep.trials_per_task=1",
    "ray.num_cpus=2",
]


def sqlite_uri(folder) -> str:
    return f"sqlite:///{folder}/mlflow.db"


def sweep_into(folder, *args: str, timeout: float = 240):
    """`python scripts/sweep.py args...` on 2 CPUs into a sqlite store in `folder`, which must
    succeed: its output, a client of that store, and the sweep's one parent run."""
    done = run_script(
        "sweep.py",
        *args,
        "ray.num_cpus=2",
        f"tracking.uri={sqlite_uri(folder)}",
        cwd=folder,
        timeout=timeout,
        check=True,
    )
    client = MlflowClient(sqlite_uri(folder))
    [parent] = parents(client)
    return done, client, parent


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


def finished_children(client: MlflowClient, experiment: str = "gradsweep") -> int:
    """Child runs FINISHED so far under the experiment's sweeps (0 before it exists)."""
    if client.get_experiment_by_name(experiment) is None:
        return 0
    return sum(
        run.info.status == "FINISHED"
        for parent in parents(client, experiment)
        for run in children(client, parent.info.run_id, experiment)
    )


def history_steps(client: MlflowClient, run_id: str, key: str = "train_loss") -> list[int]:
    return [m.step for m in client.get_metric_history(run_id, key)]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# MLflow 3's server also starts a job runner (seven huey consumers, each importing MLflow: some
# 15 s of CPU a start, taken from the sweeps under test); the sweeps never submit a job.
NO_SERVER_JOBS = {"MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}


class MlflowServer:
    """A real `mlflow server` on `host` (127.0.0.1), backed by sqlite in `folder` or by the
    database `backend` names; artifacts proxied by it (--artifacts-destination in `folder`)."""

    def __init__(
        self,
        folder: Path,
        port: int | None = None,
        backend: str | None = None,
        host: str = "127.0.0.1",
    ):
        self.folder, self.port, self.host = folder, port or free_port(), host
        self.backend = backend or f"sqlite:///{folder}/server.db"
        self.uri = f"http://{host}:{self.port}"
        self.process = None

    def start(self, timeout: float = 90) -> "MlflowServer":
        command = [sys.executable, "-m", "mlflow", "server", "--host", self.host]
        command += ["--port", str(self.port), "--workers", "1", "--backend-store-uri", self.backend]
        command += ["--artifacts-destination", str(self.folder / "server-artifacts")]
        if self.host != "127.0.0.1":  # MLflow's host check: the one name it is served under
            command += ["--allowed-hosts", f"{self.host}:{self.port}"]
        log_path = self.folder / f"server-{self.port}.log"
        log = open(log_path, "a")
        env = {**os.environ, **NO_SERVER_JOBS}
        self.process = subprocess.Popen(
            command, cwd=self.folder, env=env, stdout=log, stderr=log, start_new_session=True
        )
        deadline = time.monotonic() + timeout
        # Until it answers, or has exited (its port taken by another process, say).
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                with urllib.request.urlopen(f"{self.uri}/health", timeout=2) as answer:
                    if answer.status == 200:
                        return self
            except OSError:
                time.sleep(0.5)
        exited = self.process.poll()
        self.stop()
        state = f"exited {exited}" if exited is not None else f"no answer in {timeout:.0f} s"
        raise AssertionError(
            f"mlflow server on {self.uri}: {state}; its log:\n{log_path.read_text()[-3000:]}"
        )

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)


def assert_exactly_once(
    client: MlflowClient, parent_id: str, grid_size: int, experiment: str = "gradsweep"
) -> list:
    """Every grid point has exactly one FINISHED current child, and no step of its curve twice."""
    runs = current_children(client, parent_id, experiment)
    trial_ids = [r.data.tags["trial_id"] for r in runs]
    assert len(runs) == grid_size and len(set(trial_ids)) == grid_size
    for run in runs:
        assert run.info.status == "FINISHED"
        steps = history_steps(client, run.info.run_id)
        assert len(steps) == len(set(steps)) > 0
    return runs


def forked_children(pid: int) -> list[int]:
    """The processes `pid` forked (same command line as it): a sweep's store process."""
    command = Path(f"/proc/{pid}/cmdline").read_bytes()
    found = []
    for entry in Path("/proc").iterdir():
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            if ppid == pid and (entry / "cmdline").read_bytes() == command:
                found.append(int(entry.name))
        except (OSError, ValueError, IndexError):
            continue
    return found


def current_children(client: MlflowClient, parent_id: str, experiment: str = "gradsweep") -> list:
    """The children a rerun counts: those not superseded by a change of code."""
    runs = children(client, parent_id, experiment)
    return [run for run in runs if run.data.tags.get("superseded") != "true"]


def store_with_trials(uri: str, lrs: str, experiment: str = "gradsweep"):
    """A store (MLflow in this process behind the spool, resumed, no retries) of a short quadratic
    sweep over the comma-separated `lrs`, and each of its trials' results, trained but not
    logged."""
    from trainer.config.compose import hydra_context
    from trainer.sweep.plan.grid import expand
    from trainer.training.trial import run_trial

    with hydra_context() as loader:
        sweep = expand({}, ["task=quadratic", f"optimizer.lr={lrs}", "trainer.steps=5"], loader)
    store = mlflow_store(uri, sweep, experiment, retry_seconds=0)
    return store, [run_trial(trial.config, trial.trial_id) for trial in sweep.trials]


def store_context(uri, grid, experiment: str = "gradsweep", retry_seconds: float = 60.0):
    """The context a sweep named "mine" gives its store, as the driver builds it."""
    from trainer.sweep.context import SweepContext

    session = {
        "sweep": {"name": "mine"},
        "tracking": {"experiment": experiment, "retry_seconds": retry_seconds},
        "ray": {},
    }
    return SweepContext(session, grid, uri, time.perf_counter())


def mlflow_store(uri: str, grid, experiment: str = "gradsweep", retry_seconds: float = 60.0):
    """The sweep's store as the driver opens it in process: MLflow behind the spool, resumed."""
    from trainer.sweep.record.open import open_store

    return open_store(store_context(uri, grid, experiment, retry_seconds), None)


def process_store(uri: str, grid, experiment: str = "gradsweep"):
    """The sweep's store as the driver opens it by default: MLflow in a child process."""
    from trainer.sweep.record.open import open_store
    from trainer.sweep.record.store_process import open_in_background

    context = store_context(uri, grid, experiment)
    return open_store(context, open_in_background(context))
