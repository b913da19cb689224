"""`train(config)` is a pure function of its config: same config and seed, same bits."""

import copy
import pickle

import numpy as np
import pytest

from trainer.training.loop import train

MINIBATCH_RUNS = {
    "digits_mlp": ["task=digits_mlp", "trainer.steps=150", "trainer.eval_every=50"],
    "linear_regression": [
        "optimizer=sgd",
        "optimizer.lr=0.05",
        "task=linear_regression",
        "trainer.steps=150",
        "trainer.eval_every=50",
        "trainer.batch_size=16",
    ],
}


def assert_same_run(first, second):
    assert np.array_equal(first.train_loss, second.train_loss)
    assert first.evals == second.evals
    assert first.final == second.final
    assert first.outcome == second.outcome


@pytest.mark.parametrize("task", sorted(MINIBATCH_RUNS))
def test_two_runs_of_one_config_give_identical_curves(compose, task):
    config = compose(MINIBATCH_RUNS[task])
    before = copy.deepcopy(config)
    first, second = train(config), train(config)
    assert config == before, "train must not change its config"
    assert first.steps_run == 150 and len(first.evals) == 3
    assert_same_run(first, second)


@pytest.mark.parametrize("task", sorted(MINIBATCH_RUNS))
def test_another_trainer_seed_gives_another_curve(compose, task):
    first = train(compose(MINIBATCH_RUNS[task]))
    other = train(compose([*MINIBATCH_RUNS[task], "trainer.seed=1"]))
    assert first.steps_run == other.steps_run == 150
    assert not np.array_equal(first.train_loss, other.train_loss)
    assert first.evals != other.evals


def test_a_2d_run_repeats_its_trajectory(compose):
    config = compose(
        ["optimizer=nesterov", "optimizer.lr=0.001", "task=rosenbrock", "trainer.steps=300"]
    )
    first, second = train(config), train(config)
    assert_same_run(first, second)
    assert first.trajectory.shape == (301, 2)
    assert np.array_equal(first.trajectory, second.trajectory)


def test_a_result_survives_pickling(compose):
    result = train(compose(MINIBATCH_RUNS["digits_mlp"]))
    restored = pickle.loads(pickle.dumps(result))
    assert_same_run(result, restored)
    assert restored.config == result.config
    assert restored.wall_time == result.wall_time
