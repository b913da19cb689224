"""`run_trial`: the one way from a config to the complete Result a run is recorded from."""

import numpy as np

from trainer import contract
from trainer.training.loop import train
from trainer.training.result import CONVERGED, FAILED
from trainer.training.trial import run_trial

PNG = b"\x89PNG\r\n\x1a\n"


def test_a_trial_comes_back_identified_with_its_figures(compose):
    config = compose(["task=quadratic", "optimizer=momentum", "trainer.steps=50"])
    result = run_trial(config, "abc123", "node-1")
    assert (result.trial_id, result.node, result.outcome) == ("abc123", "node-1", CONVERGED)
    assert np.array_equal(result.train_loss, train(config).train_loss)
    assert set(result.plots) == {contract.TRAJECTORY_FILE}
    assert all(png.startswith(PNG) for png in result.plots.values())


def test_a_task_without_a_surface_has_no_figure_mlflow_charts_its_curve(compose):
    config = compose(["task=linear_regression", "trainer.steps=20"])
    assert run_trial(config, "abc123").plots == {}


def test_a_trial_that_raises_is_a_failed_record_with_its_traceback(compose):
    config = compose(["optimizer._target_=no_such_module.Optimizer", "trainer.steps=5"])
    result = run_trial(config, "abc123", "node-1")
    assert (result.trial_id, result.node, result.outcome) == ("abc123", "node-1", FAILED)
    assert "Traceback" in result.error and "no_such_module" in result.error
    assert result.steps_run == 0 and result.plots == {} and result.config == config
