"""A trial table's store going away: the results are spooled, then logged once as parts."""

import time

import pytest
from mlflow import MlflowClient
from support import sqlite_uri

from trainer import contract
from trainer.config.compose import hydra_context
from trainer.sweep.context import SweepContext
from trainer.sweep.plan.grid import expand
from trainer.sweep.record.mlflow.table_runs import read_parts
from trainer.sweep.record.open import open_store
from trainer.training.trial import run_trial

pytestmark = pytest.mark.usefixtures("one_driver")  # one driver at a time in this process

GRID = ["task=quadratic", "optimizer=sgd", "optimizer.lr=0.01,0.02,0.03,0.04", "trainer.steps=5"]


def table_store(uri: str, grid):
    """The table form's store as the driver opens it in process, retrying nothing."""
    session = {
        "sweep": {"name": "outage"},
        "tracking": {"experiment": "gradsweep", "retry_seconds": 0.0, "children": False},
        "ray": {},
    }
    return open_store(SweepContext(session, grid, uri, time.perf_counter()), None)


@pytest.mark.usefixtures("sqlite_store")
def test_results_the_store_cannot_take_are_spooled_and_drained_as_parts_once(tmp_path, capsys):
    with hydra_context() as loader:
        grid = expand({}, GRID, loader)
    results = [run_trial(t.config, t.trial_id) for t in grid.trials]
    names = [f"trial {i}" for i in range(len(results))]
    uri = sqlite_uri(tmp_path)
    store = table_store(uri, grid)
    assert store.log_many(results[:1], names[:1]) == 0

    client = store.backend.client
    upload = client.log_artifact

    def refused(*args, **kwargs):
        raise ConnectionError("connection refused")

    client.log_artifact = refused
    assert store.log_many(results[1:3], names[1:3]) == 2  # both to the spool
    assert store.log_many(results[3:], names[3:]) == 1  # the store is still away: spooled
    assert "results go to" in capsys.readouterr().err
    assert len(store.spool.entries()) == 3
    client.log_artifact = upload
    assert store.drain() == 0
    parent_id = store.status()[2]
    store.close()

    assert store.spool.entries() == []
    trials, _ = read_parts(MlflowClient(uri), parent_id)
    assert sorted(t.info.run_name for t in trials) == names  # each once
    again = table_store(uri, grid)
    again.close()
    assert set(again.finished) == {t.trial_id for t in grid.trials}
    parts = MlflowClient(uri).list_artifacts(parent_id, contract.TRIALS_FOLDER)
    assert len(parts) == 3  # the first result's, the probe's on draining, the rest's in one
