"""Sweeps straight on PostgreSQL: recorded once, a rerun with nothing to do, a bad login refused."""

import re

import numpy as np
import pytest
from mlflow import MlflowClient
from support import assert_exactly_once, children, parents, run_script, store_with_trials

from trainer import contract
from trainer.sweep import load_sweep
from trainer.tracking.curve import from_npz

pytestmark = pytest.mark.slow

GRID = [
    "sweep=quadratic",
    "optimizer.lr=0.01,0.03",
    "optimizer.momentum=0,0.9",
    "trainer.steps=200",
    "ray.num_cpus=2",
]


def test_a_sweep_on_postgresql_is_recorded_once_and_a_rerun_has_nothing_to_do(postgres, tmp_path):
    uri = postgres.database()
    args = [*GRID, f"tracking.uri={uri}"]
    done = run_script("sweep.py", *args, cwd=tmp_path, check=True)
    assert postgres.cluster.password not in done.stdout + done.stderr  # masked: gradsweep:***@
    client = MlflowClient(uri)
    [parent] = parents(client)
    runs = assert_exactly_once(client, parent.info.run_id, grid_size=4)
    for run in runs:
        with_curve = client.download_artifacts(run.info.run_id, contract.TRAIN_LOSS_FILE)
        curve = from_npz(open(with_curve, "rb").read())
        assert curve.size == 200 and np.isfinite(curve).all()
        assert len(client.get_metric_history(run.info.run_id, contract.TRAIN_LOSS)) == 200
    assert client.get_run(parent.info.run_id).data.metrics[contract.TRIALS] == 4
    rows = load_sweep(parent.info.run_id, uri).rows  # read back in bulk from the tables
    assert sorted(row["trial_id"] for row in rows) == sorted(r.data.tags["trial_id"] for r in runs)

    again = run_script("sweep.py", *args, cwd=tmp_path, check=True)
    assert re.search(r"4 trials, 4 already done, 0 to run", again.stdout), again.stdout
    assert_exactly_once(client, parent.info.run_id, grid_size=4)
    assert [p.info.run_id for p in parents(client)] == [parent.info.run_id]


@pytest.mark.parametrize(
    "mistake, says",
    [
        ("password", "password authentication failed"),
        ("database", 'database "nowhere" does not exist; create it first (createdb nowhere'),
    ],
    ids=["wrong password", "no such database"],
)
def test_a_login_postgresql_refuses_is_one_line_exit_2_and_nothing_starts(
    postgres, tmp_path, mistake, says
):
    uri = postgres.url("nowhere")
    if mistake == "password":
        uri = postgres.url("postgres").replace(postgres.cluster.password, "wrongpw")
    done = run_script("sweep.py", *GRID, f"tracking.uri={uri}", cwd=tmp_path, timeout=120)
    assert done.returncode == 2, done.stdout + done.stderr
    [line] = done.stderr.splitlines()
    assert line.startswith("error: tracking.uri=postgresql://gradsweep:***@127.0.0.1:"), line
    assert says in line and "wrongpw" not in line
    assert list(tmp_path.iterdir()) == []


def test_postgresql_away_is_a_store_away_spooled_then_logged_never_a_failed_child(
    postgres, tmp_path, monkeypatch
):
    """Straight on PostgreSQL, a stopped server is a store that is away (its errors transient):
    the result goes to the spool, and is logged once it is back, as a FINISHED child."""
    monkeypatch.chdir(tmp_path)  # the spool of a database store is in the working directory
    uri = postgres.database()
    store, (first, second) = store_with_trials(uri, "0.01,0.02")
    postgres.stop()
    try:
        assert not store.log(first, "while away")  # not written: kept in the spool
    finally:
        postgres.cluster.start()
    assert [entry.trial_id for entry in store.spool.entries()] == [first.trial_id]
    assert store.drain() == 0 and store.log(second, "after")
    parent_id = store.status()[2]
    store.close()
    runs = children(MlflowClient(uri), parent_id)
    assert sorted(run.info.run_name for run in runs) == ["after", "while away"]
    assert {run.info.status for run in runs} == {"FINISHED"}
