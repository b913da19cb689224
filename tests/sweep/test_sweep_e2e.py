"""`python scripts/sweep.py` end to end on real Ray and a real sqlite store, read back."""

import csv
import io
import time

import pytest
from mlflow import MlflowClient
from support import children, history_steps, parents, run_script, sqlite_uri
from sweep_process import SweepProcess

from trainer import contract
from trainer.config.compose import hydra_context
from trainer.config.preflight import check_session
from trainer.sweep.context import SweepContext
from trainer.sweep.plan.compose import compose_sweep
from trainer.sweep.run.ray_setup import keep_local_ray_on_loopback
from trainer.training.result import CONVERGED, DIVERGED, FAILED

pytestmark = pytest.mark.slow  # scripts/sweep.py on Ray, and a rerun in process

LRS = [0.01, 0.0153, 0.0235, 0.036, 0.0551, 0.0845, 0.13, 0.2]
MOMENTA = [0.0, 0.5, 0.9]
STEPS = 200
LAMBDA_MAX = 50.0  # the quadratic's defaults: a = 1, condition 50
ARGS = [
    "sweep=quadratic",
    "optimizer.lr=" + ",".join(map(str, LRS)),
    "optimizer.momentum=" + ",".join(map(str, MOMENTA)),
    f"trainer.steps={STEPS}",
    "ray.num_cpus=2",
]


@pytest.fixture(scope="module")
def sweep(tmp_path_factory, copy_store):
    """The sweep, run once; tests below read it, the last ones rerun it."""
    folder = tmp_path_factory.mktemp("sweep")
    copy_store(folder)
    done = run_script(
        "sweep.py", *ARGS, f"tracking.uri={sqlite_uri(folder)}", cwd=folder, check=True
    )
    client = MlflowClient(sqlite_uri(folder))
    [parent] = parents(client)
    return folder, client, parent, done


def test_one_child_per_grid_point_with_one_point_per_step(sweep):
    _, client, parent, _ = sweep
    runs = children(client, parent.info.run_id)
    assert len(runs) == len(LRS) * len(MOMENTA)
    points = {
        (float(r.data.params["optimizer.lr"]), float(r.data.params["optimizer.momentum"]))
        for r in runs
    }
    assert points == {(lr, m) for lr in LRS for m in MOMENTA}
    assert len({r.data.tags[contract.TRIAL_ID] for r in runs}) == len(runs)
    for run in runs:
        assert run.info.status == "FINISHED"
        steps = history_steps(client, run.info.run_id)
        assert steps == list(range(len(steps)))
        if run.data.tags[contract.OUTCOME] == CONVERGED:
            assert len(steps) == STEPS
            assert run.data.metrics[contract.DIVERGED_METRIC] == 0
        else:
            diverged_at = int(run.data.tags[contract.DIVERGENCE_STEP])
            assert len(steps) in (diverged_at, diverged_at + 1)
            assert run.data.metrics[contract.DIVERGED_METRIC] == 1
            assert run.data.tags[contract.DIVERGENCE_REASON]


def test_children_are_nested_named_and_carry_the_run_contract(sweep):
    _, client, parent, _ = sweep
    for run in children(client, parent.info.run_id):
        lr, m = run.data.params["optimizer.lr"], run.data.params["optimizer.momentum"]
        assert run.info.run_name == f"momentum lr={float(lr):g} m={float(m):g}"
        assert run.data.params["task.name"] == "quadratic"
        assert run.data.tags[contract.NODE]
        files = {a.path for a in client.list_artifacts(run.info.run_id)}
        assert {contract.CONFIG_FILE, contract.TRAIN_LOSS_FILE, contract.TRAJECTORY_FILE} <= files


def test_divergence_matches_the_heavy_ball_stability_boundary(sweep):
    """Theory: converges iff lr < 2 (1 + m) / lambda_max; points within 5% of it are not judged."""
    _, client, parent, _ = sweep
    judged = 0
    for run in children(client, parent.info.run_id):
        lr = float(run.data.params["optimizer.lr"])
        m = float(run.data.params["optimizer.momentum"])
        boundary = 2 * (1 + m) / LAMBDA_MAX
        if abs(lr - boundary) <= 0.05 * boundary:
            continue
        judged += 1
        expected = "diverged" if lr > boundary else "converged"
        assert run.data.tags[contract.OUTCOME] == expected, (lr, m)
    assert judged >= 20


def test_parent_has_summary_metrics_and_artifacts(sweep):
    _, client, parent, done = sweep
    runs = children(client, parent.info.run_id)
    outcomes = [r.data.tags[contract.OUTCOME] for r in runs]
    parent = client.get_run(parent.info.run_id)
    metrics = parent.data.metrics
    assert parent.info.status == "FINISHED"
    assert metrics[contract.TRIALS] == len(runs)
    assert metrics[CONVERGED] == outcomes.count(CONVERGED)
    assert metrics[DIVERGED] == outcomes.count(DIVERGED) > 0
    assert metrics[FAILED] == 0
    finals = [
        r.data.metrics[contract.FINAL_TRAIN_LOSS]
        for r in runs
        if r.data.tags[contract.OUTCOME] == CONVERGED
    ]
    assert metrics[contract.BEST_FINAL_LOSS] == min(finals)
    assert parent.data.params[contract.GRID_SIZE] == str(len(runs))
    files = {a.path for a in client.list_artifacts(parent.info.run_id)}
    assert {contract.HEATMAP_FILE, contract.LOSS_CURVES_FILE, contract.RESULTS_FILE} <= files
    folder = client.download_artifacts(parent.info.run_id, contract.RESULTS_FILE)
    with open(folder) as handle:
        rows = list(csv.DictReader(io.StringIO(handle.read())))
    assert len(rows) == len(runs)
    assert {row["trial_id"] for row in rows} == {r.data.tags[contract.TRIAL_ID] for r in runs}
    for row in rows:
        assert row["outcome"] in ("converged", "diverged") and row["node"] and row["wall_time"]
        assert (row["divergence_step"] != "") == (row["outcome"] == DIVERGED)
    assert "mlflow ui --backend-store-uri sqlite:///" in done.stdout


def test_rerun_creates_no_new_children_and_reads_no_curve_back(sweep, monkeypatch, capsys):
    """Run in this process, its store in process too, so that every call the rerun makes on
    MlflowClient is seen here: it decides there is nothing to do from the runs' records."""
    folder, client, parent, _ = sweep
    before = {r.info.run_id for r in children(client, parent.info.run_id)}
    read_back = []
    real = MlflowClient.get_metric_history

    def get_metric_history(self, run_id, key):
        read_back.append((run_id, key))
        return real(self, run_id, key)

    monkeypatch.setattr(MlflowClient, "get_metric_history", get_metric_history)
    with hydra_context() as loader:
        session, grid = compose_sweep([*ARGS, f"tracking.uri={sqlite_uri(folder)}"], loader)
    keep_local_ray_on_loopback(session["ray"]["address"])
    from trainer.sweep.run.driver import execute  # imports Ray: only once it is set up

    context = SweepContext(session, grid, check_session(session), time.perf_counter())
    outcome = execute(context, None)
    assert outcome.code == 0
    assert f"{len(before)} already done, 0 to run" in capsys.readouterr().out
    assert read_back == []
    assert [p.info.run_id for p in parents(client)] == [parent.info.run_id]
    assert {r.info.run_id for r in children(client, parent.info.run_id)} == before
    # The parent's figure of every curve, drawn by the first run, is still there.
    files = {a.path for a in client.list_artifacts(parent.info.run_id)}
    assert contract.LOSS_CURVES_FILE in files


def test_deleted_children_are_restored_exactly(sweep):
    folder, client, parent, _ = sweep
    runs = children(client, parent.info.run_id)
    deleted = runs[:3]
    for run in deleted:
        client.delete_run(run.info.run_id)
    kept = {r.info.run_id for r in runs[3:]}
    run_script("sweep.py", *ARGS, f"tracking.uri={sqlite_uri(folder)}", cwd=folder, check=True)
    after = children(client, parent.info.run_id)
    assert len(after) == len(runs)
    new = [r for r in after if r.info.run_id not in kept]
    assert sorted(r.data.tags[contract.TRIAL_ID] for r in new) == sorted(
        r.data.tags[contract.TRIAL_ID] for r in deleted
    )
    assert client.get_run(parent.info.run_id).data.metrics[contract.TRIALS] == len(runs)


@pytest.mark.usefixtures("sqlite_store")
def test_a_ctrl_c_logs_the_trials_the_progress_bar_counted_and_stops_the_rest(tmp_path):
    """README, "Ctrl-C keeps what is trained": one Ray task of 4 trials comes back while the
    next trains; a Ctrl-C then ends the sweep with those 4 logged, and the rest not run."""
    args = [
        "task=quadratic",
        "optimizer=momentum",
        "optimizer.lr=0.001,0.002",
        "optimizer.momentum=0,0.5,0.9,0.95",
        "trainer.steps=200000",  # seconds a task of 4: the second is still training
        "sweep.trials_per_task=4",
        "ray.num_cpus=1",
        f"tracking.uri={sqlite_uri(tmp_path)}",
    ]
    sweep = SweepProcess(args, tmp_path)
    sweep.interrupt_after(4)
    client = MlflowClient(sqlite_uri(tmp_path))
    [parent] = parents(client)
    runs = children(client, parent.info.run_id)
    assert sorted(r.info.status for r in runs) == ["FINISHED"] * 4, sweep.output()
    assert client.get_run(parent.info.run_id).info.status == "KILLED"
