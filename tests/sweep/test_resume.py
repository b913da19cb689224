"""The store opened in a child process while Ray starts: what it reports, and when it cannot."""

import pytest
from mlflow import MlflowClient
from support import parents, sqlite_uri

from trainer.config import ConfigError, hydra_context
from trainer.sweep.grid import expand
from trainer.sweep.resume import resume_in_background

GRID = ["task=quadratic", "optimizer=momentum", "optimizer.lr=0.01,0.02", "trainer.steps=5"]


def grid():
    with hydra_context() as loader:
        return expand({}, GRID, loader)


def test_a_new_store_is_created_with_its_parent_run_and_nothing_finished(tmp_path):
    uri = sqlite_uri(tmp_path)
    sweep = grid()
    assert resume_in_background(uri, "gradsweep", sweep, "mine")() == set()
    [parent] = parents(MlflowClient(uri))
    assert parent.data.tags["sweep_id"] == sweep.sweep_id
    assert parent.info.run_name == "sweep mine"


def test_a_store_mlflow_refuses_is_one_clear_error(tmp_path):
    (tmp_path / "mlflow.db").write_text("a text file, not a sqlite database")
    finished = resume_in_background(sqlite_uri(tmp_path), "gradsweep", grid(), "mine")
    with pytest.raises(ConfigError, match="tracking.uri=sqlite:///.*file is not a database"):
        finished()
