"""A run resumed from its checkpoint computes exactly what one run to the later step would."""

import numpy as np
import pytest

from trainer.config.compose import compose_config, hydra_context, to_plain, trial_config
from trainer.training.loop import train


def config_for(*overrides: str, steps: int) -> dict:
    with hydra_context():
        composed = compose_config("train", [*overrides, f"trainer.steps={steps}"])
    return trial_config(to_plain(composed))


@pytest.mark.parametrize(
    "overrides",
    [
        ["task=quadratic", "optimizer=momentum", "optimizer.lr=0.01"],
        ["task=rosenbrock", "optimizer=adam", "optimizer.lr=0.01"],
        ["task=logistic_regression", "optimizer=nesterov", "trainer.eval_every=7"],
        ["task=digits_mlp", "optimizer=rmsprop", "optimizer.lr=0.001", "trainer.eval_every=10"],
    ],
)
def test_rungs_resumed_from_checkpoints_equal_one_run_to_the_last(overrides):
    fresh = train(config_for(*overrides, steps=36))
    first = train(config_for(*overrides, steps=4), keep=True)
    second = train(config_for(*overrides, steps=12), resume=first.checkpoint, keep=True)
    third = train(config_for(*overrides, steps=36), resume=second.checkpoint)
    np.testing.assert_array_equal(third.train_loss, fresh.train_loss)
    assert third.final == fresh.final and third.evals == fresh.evals
    assert third.outcome == fresh.outcome and third.checkpoint is None
    if fresh.trajectory is not None:
        np.testing.assert_array_equal(third.trajectory, fresh.trajectory)


def test_a_diverged_run_leaves_no_checkpoint_to_train_on():
    diverged = train(config_for("task=quadratic", "optimizer.lr=30", steps=20), keep=True)
    assert diverged.outcome == "diverged" and diverged.checkpoint is None


def test_the_range_test_raises_lr_geometrically_and_stops_past_its_multiple_of_the_best():
    config = config_for("task=quadratic", "optimizer=sgd", steps=400)
    config["range_test"] = {"low": 1e-5, "high": 10.0, "stop": 4.0}
    result = train(config)
    losses = result.train_loss
    assert 10 < losses.size < 400  # it ends once the loss blows past 4 x its best
    assert losses[-1] > 4.0 * losses.min() or result.outcome == "diverged"
