"""tracking.children=false end to end: one parent run, its trial table equal to the child runs."""

import os
import signal

import numpy as np
import pytest
from mlflow import MlflowClient
from support import DIGITS_GRID, forked_children, run_script, sqlite_uri, sweep_into
from sweep_process import SweepProcess

from trainer import contract
from trainer.sweep import load_sweep
from trainer.sweep.record.mlflow.reader import recorded_trials
from trainer.sweep.record.mlflow.table_runs import read_parts

# Converging, overshooting and diverging trials, with a curve tracked one step in seven.
GRID = [
    "task=quadratic",
    "optimizer=momentum",
    "optimizer.lr=0.01,0.1,0.2,0.5",
    "optimizer.momentum=0,0.9",
    "trainer.steps=60",
    "trainer.log_every=7",
]


def all_runs(client: MlflowClient) -> list:
    experiment = client.get_experiment_by_name("gradsweep").experiment_id
    return client.search_runs([experiment], max_results=1000)


def logged_so_far(client: MlflowClient) -> list:
    """The trials in the table of the sweep's parent run so far (none before it exists)."""
    if client.get_experiment_by_name("gradsweep") is None:
        return []
    runs = all_runs(client)
    return read_parts(client, runs[0].info.run_id)[0] if runs else []


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    """The same sweep recorded both ways: (client, parent) with child runs, then the table."""
    forms = []
    for children in ("true", "false"):
        folder = tmp_path_factory.mktemp(f"children-{children}")
        _, client, parent = sweep_into(folder, *GRID, f"tracking.children={children}")
        forms.append((client, parent))
    return forms


@pytest.mark.slow
def test_a_table_sweep_is_one_run_whose_table_holds_every_trial_as_its_child_run_does(both):
    (child_client, child_parent), (table_client, table_parent) = both
    assert [r.info.run_id for r in all_runs(table_client)] == [table_parent.info.run_id]
    assert table_parent.info.status == "FINISHED"
    assert table_parent.data.tags[contract.RECORD_FORM] == contract.TABLE
    trials, _ = read_parts(table_client, table_parent.info.run_id)
    table = {t.data.tags[contract.TRIAL_ID]: t for t in trials}
    assert len(trials) == len(table) == 8  # each trial once
    runs = {r.data.tags[contract.TRIAL_ID]: r for r in recorded_trials(child_client, child_parent)}
    assert set(runs) == set(table)
    diverged = 0
    for trial_id, run in runs.items():
        trial = table[trial_id]
        assert trial.info.run_name == run.info.run_name
        assert trial.data.params == run.data.params
        for key in (
            contract.OUTCOME,
            contract.DIVERGENCE_STEP,
            contract.DIVERGENCE_REASON,
            contract.POPULATION,
            contract.CODE_FINGERPRINT,
        ):
            assert trial.data.tags.get(key) == run.data.tags.get(key), key
        finals = {k: v for k, v in run.data.metrics.items() if k.startswith("final_")}
        assert {k: v for k, v in trial.data.metrics.items() if k.startswith("final_")} == finals
        history = child_client.get_metric_history(run.info.run_id, contract.TRAIN_LOSS)
        points = {m.step: m.value for m in history}
        finite = np.isfinite(trial.losses)
        tracked = zip(trial.steps[finite].tolist(), trial.losses[finite].tolist(), strict=True)
        assert dict(tracked) == points
        diverged += run.data.tags[contract.OUTCOME] == "diverged"
    assert 0 < diverged < 8
    files = {f.path for f in table_client.list_artifacts(table_parent.info.run_id)}
    assert {contract.HEATMAP_FILE, contract.RESULTS_FILE, contract.LOSS_CURVES_FILE} <= files
    assert table_parent.data.metrics[contract.TRIALS] == 8
    for key in (contract.TRIALS, contract.BEST_FINAL_LOSS, "converged", "diverged"):
        assert table_parent.data.metrics[key] == child_parent.data.metrics[key]


def comparable(records: list[dict]) -> list[dict]:
    """Records but their wall time, which differs between two runs of the same trial."""
    return [{k: v for k, v in r.items() if k != "wall_time"} for r in records]


@pytest.mark.slow
def test_load_sweep_reads_both_forms_alike(both):
    (child_client, child_parent), (table_client, table_parent) = both
    child = load_sweep(child_parent.info.run_id, child_client.tracking_uri)
    table = load_sweep(table_parent.info.run_id, table_client.tracking_uri)
    assert len(table.rows) == 8
    assert comparable(table.rows) == comparable(child.rows)
    assert table.configs == child.configs


@pytest.mark.slow
def test_a_rerun_of_a_table_sweep_has_nothing_to_do_and_adds_no_part(both):
    _, (client, parent) = both
    folder = client.tracking_uri.removeprefix("sqlite:///").removesuffix("/mlflow.db")
    before = {f.path for f in client.list_artifacts(parent.info.run_id, contract.TRIALS_FOLDER)}
    done, _, again = sweep_into(folder, *GRID, "tracking.children=false")
    assert "8 already done, 0 to run" in done.stdout
    assert again.info.run_id == parent.info.run_id
    after = {f.path for f in client.list_artifacts(parent.info.run_id, contract.TRIALS_FOLDER)}
    assert after == before


@pytest.mark.slow
def test_the_other_form_is_refused_in_one_line(both):
    _, (client, parent) = both
    folder = client.tracking_uri.removeprefix("sqlite:///").removesuffix("/mlflow.db")
    done = run_script(
        "sweep.py", *GRID, "ray.num_cpus=2", f"tracking.uri={client.tracking_uri}", cwd=folder
    )
    assert done.returncode == 2, done.stdout + done.stderr
    errors = [x for x in done.stderr.splitlines() if x.startswith("error: ")]
    assert len(errors) == 1, done.stderr
    assert "tracking.children=false" in errors[0] and "Traceback" not in done.stderr
    assert client.get_run(parent.info.run_id).info.status == "FINISHED"


@pytest.mark.slow
@pytest.mark.usefixtures("sqlite_store")
def test_after_kill_9_a_rerun_trains_only_the_missing_trials_and_logs_none_twice(tmp_path):
    args = [*DIGITS_GRID, "tracking.children=false", f"tracking.uri={sqlite_uri(tmp_path)}"]
    first = SweepProcess(args, cwd=tmp_path)
    client = MlflowClient(sqlite_uri(tmp_path))
    first.wait_for_logged(lambda: len(logged_so_far(client)), 2)
    [store_process] = forked_children(first.process.pid)
    for pid in (first.process.pid, store_process):
        os.kill(pid, signal.SIGKILL)
    first.wait()
    [parent] = all_runs(client)
    logged, _ = read_parts(client, parent.info.run_id)
    assert 2 <= len(logged) < 8

    done = run_script("sweep.py", *args, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{len(logged)} already done, {8 - len(logged)} to run" in done.stdout
    [again] = all_runs(client)
    assert again.info.run_id == parent.info.run_id and again.info.status == "FINISHED"
    trials, _ = read_parts(client, parent.info.run_id)
    trial_ids = [t.data.tags[contract.TRIAL_ID] for t in trials]
    assert len(trial_ids) == len(set(trial_ids)) == 8  # each once, none twice
    assert {t.info.status for t in trials} == {"FINISHED"}


@pytest.mark.slow
def test_run_sweep_returns_what_load_sweep_reads_back_from_the_table(tmp_path, monkeypatch):
    from trainer.sweep import run_sweep

    monkeypatch.chdir(tmp_path)
    overrides = [*GRID, "tracking.children=false", "ray.num_cpus=2", "sweep.trials_per_task=2"]
    ran = run_sweep([*overrides, f"tracking.uri={sqlite_uri(tmp_path)}"])
    assert ran.code == 0 and len(ran.rows) == 8
    loaded = load_sweep(ran.parent_run_id, sqlite_uri(tmp_path))
    assert comparable(loaded.rows) == comparable(ran.rows)
    assert [r["wall_time"] for r in loaded.rows] == [r["wall_time"] for r in ran.rows]
