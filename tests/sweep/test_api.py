"""The Python API: the README's example runs as written; mistakes raise; nothing is left behind."""

import os
import re
import shlex
import signal
import sys

import pytest
import ray
from hydra.core.global_hydra import GlobalHydra
from mlflow import MlflowClient
from support import REPO, sqlite_uri

from trainer.config.errors import ConfigError
from trainer.contract import NOTE
from trainer.sweep import load_sweep, run_sweep
from trainer.sweep.api import FINISHED

MARKER = "<!-- python-api"


def readme_example() -> str:
    text = (REPO / "README.md").read_text()
    after = text[text.index(MARKER) :]
    return re.search(r"```python\n(.*?)```", after, flags=re.S).group(1)


@pytest.mark.slow
def test_the_readme_example_runs_a_sweep_and_reads_it_back(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the default store: ./mlflow.db
    environment = dict(os.environ)
    handler = signal.getsignal(signal.SIGINT)
    namespace = {}
    argv = list(sys.argv)
    exec(readme_example(), namespace)

    sweep, rows = namespace["sweep"], namespace["rows"]
    assert sweep.status == FINISHED and sweep.code == 0
    assert len(sweep.rows) == 4 and sweep.rows == rows
    assert {row["optimizer.lr"] for row in rows} == {0.01, 0.05}
    assert {row["optimizer.momentum"] for row in rows} == {0.0, 0.9}
    assert all(row["outcome"] in ("converged", "diverged") for row in rows)
    assert list(sweep.table()["run_name"]) == [row["run_name"] for row in rows]
    assert (tmp_path / "mlflow.db").exists()
    # The record names the command that reproduces the sweep, not pytest's command line.
    note = MlflowClient(sqlite_uri(tmp_path)).get_run(sweep.parent_run_id).data.tags[NOTE]
    script, *overrides = shlex.split(note.splitlines()[0])[1:]
    assert script == str(REPO / "scripts" / "sweep.py") and sys.argv == argv
    assert overrides == ["sweep=quadratic", "optimizer.lr=0.01,0.05", "optimizer.momentum=0,0.9"]
    # Nothing left behind: Ray down, Ctrl-C and the environment as they were, Hydra cleared.
    assert not ray.is_initialized()
    assert signal.getsignal(signal.SIGINT) is handler
    assert dict(os.environ) == environment
    assert not GlobalHydra.instance().is_initialized()


def test_a_mistake_raises_config_error_and_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match="optimizer.lr"):
        run_sweep(["sweep=quadratic", "optimizer.lr=-1,0.1"])
    with pytest.raises(ConfigError, match="sweep=nope is not an option"):
        run_sweep(["sweep=nope"])
    assert list(tmp_path.iterdir()) == []
    assert not ray.is_initialized()


def test_loading_an_unknown_parent_or_store_raises_config_error(tmp_path, copy_store):
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    with pytest.raises(ConfigError, match="no store"):
        load_sweep("0" * 32, uri)
    assert list(tmp_path.iterdir()) == []
    from mlflow import MlflowClient

    MlflowClient(copy_store(tmp_path)).create_experiment("empty")
    with pytest.raises(ConfigError, match="no such run"):
        load_sweep("0" * 32, uri)
    with pytest.raises(ConfigError, match="parent_run_id is empty"):
        load_sweep(None, uri)  # what a sweep that failed to start hands back


@pytest.mark.slow
@pytest.mark.usefixtures("sqlite_store")
def test_a_second_sweep_in_one_process_sees_the_training_code_edited_in_between(
    tmp_path, monkeypatch
):
    import shutil

    from trainer import contract
    from trainer.tracking import provenance

    # A copy of the training packages stands for the project's source: editing it is editing
    # what a sweep fingerprints, without touching the checkout the other tests import.
    project = tmp_path / "project"
    for package in provenance.TRAINING_PACKAGES:
        ignore = shutil.ignore_patterns("__pycache__")
        shutil.copytree(provenance.PROJECT / package, project / package, ignore=ignore)
    monkeypatch.setattr(provenance, "PROJECT", project)
    monkeypatch.chdir(tmp_path)
    overrides = ["sweep=quadratic", "optimizer.lr=0.01,0.05", "optimizer.momentum=0"]
    try:
        first = run_sweep([*overrides, "ray.num_cpus=2"])
        with open(project / "optimizers" / "__init__.py", "a") as source:
            source.write("\n# an edit between two sweeps of one notebook\n")
        second = run_sweep([*overrides, "ray.num_cpus=2"])
    finally:
        monkeypatch.undo()
        provenance.read_anew()  # the checkout's fingerprint again, for the tests that follow
    assert first.parent_run_id == second.parent_run_id and second.status == FINISHED
    client = MlflowClient(sqlite_uri(tmp_path))
    runs = client.search_runs(
        [client.get_run(first.parent_run_id).info.experiment_id],
        f"tags.`mlflow.parentRunId` = '{first.parent_run_id}'",
    )
    superseded = [run for run in runs if run.data.tags.get(contract.SUPERSEDED) == "true"]
    assert len(runs) == 4 and len(superseded) == 2
    fingerprints = {run.data.tags[contract.CODE_FINGERPRINT] for run in runs}
    assert len(fingerprints) == 2


@pytest.mark.slow
def test_a_sweep_finished_before_an_edit_to_the_sweep_engine_only_has_nothing_to_do_after(
    tmp_path, monkeypatch, capsys
):
    """The fingerprint covers what computes a trial's numbers, not the engine that plans, runs,
    records and reports them: moving or fixing the engine retrains nothing."""
    import shutil

    from trainer import contract
    from trainer.tracking import provenance

    project = tmp_path / "project"
    for package in ("autodiff", "optimizers", "trainer"):
        ignore = shutil.ignore_patterns("__pycache__")
        shutil.copytree(provenance.PROJECT / package, project / package, ignore=ignore)
    monkeypatch.setattr(provenance, "PROJECT", project)
    monkeypatch.chdir(tmp_path)
    overrides = ["sweep=quadratic", "optimizer.lr=0.01,0.05", "optimizer.momentum=0"]
    try:
        first = run_sweep([*overrides, "ray.num_cpus=2"])
        for engine in ("sweep/run/loop.py", "sweep/record/store.py", "sweep/report/heatmap.py"):
            with open(project / "trainer" / engine, "a") as source:
                source.write("\n# an edit to the engine between two sweeps\n")
        capsys.readouterr()
        second = run_sweep([*overrides, "ray.num_cpus=2"])
    finally:
        monkeypatch.undo()
        provenance.read_anew()  # the checkout's fingerprint again, for the tests that follow
    assert "2 already done, 0 to run" in capsys.readouterr().out
    assert first.parent_run_id == second.parent_run_id and second.status == FINISHED
    client = MlflowClient(sqlite_uri(tmp_path))
    runs = client.search_runs(
        [client.get_run(first.parent_run_id).info.experiment_id],
        f"tags.`mlflow.parentRunId` = '{first.parent_run_id}'",
    )
    assert len(runs) == 2
    assert not [run for run in runs if run.data.tags.get(contract.SUPERSEDED) == "true"]
