"""Many short trials through one sqlite store: every child and every point, no lock errors."""

import pytest
from mlflow import MlflowClient
from support import assert_exactly_once, parents, run_script, sqlite_uri

from trainer import contract
from trainer.training.result import CONVERGED

pytestmark = pytest.mark.slow  # scripts/sweep.py on Ray


@pytest.mark.usefixtures("sqlite_store")
def test_many_short_trials_are_all_logged_in_full(tmp_path):
    done = run_script(
        "sweep.py",
        "sweep=quadratic",
        "optimizer.lr=logspace(1e-3,0.03,12)",
        "optimizer.momentum=0,0.3,0.6,0.9",
        "trainer.steps=100",
        "ray.num_cpus=2",
        f"tracking.uri={sqlite_uri(tmp_path)}",
        cwd=tmp_path,
        check=True,
    )
    assert "locked" not in done.stdout + done.stderr
    client = MlflowClient(sqlite_uri(tmp_path))
    [parent] = parents(client)
    runs = assert_exactly_once(client, parent.info.run_id, grid_size=48)
    for run in runs:
        assert run.data.tags[contract.OUTCOME] == CONVERGED
        assert len(client.get_metric_history(run.info.run_id, contract.TRAIN_LOSS)) == 100
