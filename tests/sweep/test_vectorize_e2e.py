"""A vectorised sweep records in MLflow what the per-trial sweep records, plus each population."""

import numpy as np
import pytest
from support import children, sweep_into

from trainer import contract

pytestmark = pytest.mark.slow  # two sweeps through scripts/sweep.py on Ray

# Two seeds, learning rates that converge and one that diverges, two momenta: 12 trials of one
# task and optimizer, so one population, split across the 2 CPUs.
GRID = [
    "sweep=logistic_regression",
    "optimizer.lr=0.001,0.3,1e6",
    "optimizer.momentum=0,0.9",
    "sweep.seeds=2",
    "trainer.steps=120",
    "trainer.log_every=1",
]
# Tags that differ between any two runs of a sweep: when, where and how long.
VARYING = {contract.WALL_TIME, contract.NODE, contract.NODE_ADDRESS, contract.POPULATION}


def recorded(folder, *args):
    done, client, parent = sweep_into(folder, *GRID, *args)
    runs = {run.info.run_name: run for run in children(client, parent.info.run_id)}
    curves = {
        name: [(m.step, m.value) for m in client.get_metric_history(run.info.run_id, "train_loss")]
        for name, run in runs.items()
    }
    return done, runs, curves


def own_tags(run) -> dict:
    return {
        key: value
        for key, value in run.data.tags.items()
        if not key.startswith("mlflow.") and key not in VARYING
    }


def test_a_vectorised_sweep_records_each_trial_as_the_per_trial_sweep_does(tmp_path):
    (tmp_path / "serial").mkdir()
    (tmp_path / "vectorised").mkdir()
    _, serial, serial_curves = recorded(tmp_path / "serial", "sweep.vectorize=false")
    done, vectorised, vectorised_curves = recorded(tmp_path / "vectorised")

    assert len(serial) == len(vectorised) == 12 and serial.keys() == vectorised.keys()
    outcomes = {run.data.tags[contract.OUTCOME] for run in vectorised.values()}
    assert outcomes == {"converged", "diverged"}
    for name, run in vectorised.items():
        twin = serial[name]
        assert run.data.params == twin.data.params
        assert run.data.metrics == twin.data.metrics, name
        assert own_tags(run) == own_tags(twin), name
        assert vectorised_curves[name] == serial_curves[name], name
        # Trained in a population (6 members a CPU); alone, no such tag.
        assert int(run.data.tags[contract.POPULATION]) == 6
        assert contract.POPULATION not in twin.data.tags
        # Each run keeps its own figures, as a per-trial one does.
        assert np.isfinite(run.data.metrics[contract.FINAL_TRAIN_LOSS]) or (
            run.data.tags[contract.OUTCOME] == "diverged"
        )
    assert "12 trials" in done.stdout
