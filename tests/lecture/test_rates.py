"""The per-parameter rates are read from a replay that retraces the run's own path."""

import numpy as np
import pytest

from trainer.config.compose import compose_config, hydra_context, to_plain
from trainer.lecture.runs import ADAPTIVE_RULES, trial
from trainer.lecture.step_sizes import per_parameter_rates
from trainer.training.loop import train


@pytest.mark.parametrize("rule", ADAPTIVE_RULES)
def test_replay_follows_the_runs_path_and_the_steep_parameter_gets_the_smaller_rate(rule):
    with hydra_context():
        plain = to_plain(compose_config("lecture", ["trainer.steps=60"]))
    result = train(trial(plain, "bowl", plain["optimizers"][rule]))
    rates, path = per_parameter_rates(result)
    np.testing.assert_array_equal(path, result.trajectory)
    assert rates.shape == (60, 2)
    # After the first step, y (curvature 50) has seen the larger gradients than x (curvature 1).
    assert rates[0, 1] < rates[0, 0]
