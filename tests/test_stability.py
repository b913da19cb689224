"""The stability limits from the iteration matrix: closed forms, and a direct simulation."""

import numpy as np
import pytest

from trainer.tasks.quadratic import Quadratic
from trainer.training.stability import (
    iteration_matrix,
    stable_lr_limit,
    stable_step_limit,
    theoretical_limit,
)

MOMENTA = [0.0, 0.1, 0.5, 0.9, 0.99]


@pytest.mark.parametrize("momentum", MOMENTA)
def test_heavy_ball_limit_is_two_times_one_plus_momentum_over_lambda_max(momentum):
    assert stable_lr_limit("momentum", 50.0, momentum) == pytest.approx(
        2 * (1 + momentum) / 50.0, rel=1e-9
    )


def test_sgd_limit_is_two_over_lambda_max():
    assert stable_lr_limit("sgd", 50.0) == pytest.approx(2 / 50.0, rel=1e-9)
    assert stable_lr_limit("sgd", 50.0, 0.9) == stable_lr_limit("sgd", 50.0)


def simulate(method: str, h: float, momentum: float, steps: int) -> float:
    """|x| after `steps` steps of the 2x2 recursion written out, from x = 1, v = 0."""
    x, v = 1.0, 0.0
    for _ in range(steps):
        if method == "nesterov":
            g = x + momentum * v  # gradient (lambda = 1) at the interim point theta + alpha v
        else:
            g = x
        v = momentum * v - h * g
        x = x + v
    return abs(x)


@pytest.mark.parametrize("momentum", MOMENTA)
def test_nesterov_limit_separates_decay_from_growth_in_a_direct_simulation(momentum):
    limit = stable_step_limit("nesterov", momentum)
    assert simulate("nesterov", limit * 0.999, momentum, 20000) < 1e-3
    assert simulate("nesterov", limit * 1.001, momentum, 20000) > 1e3


@pytest.mark.parametrize("momentum", MOMENTA)
def test_nesterov_limit_matches_its_characteristic_polynomial(momentum):
    # z^2 - (1 - h)(1 + alpha) z + alpha (1 - h) has the root -1 at h = 2(1 + alpha)/(1 + 2 alpha)
    assert stable_step_limit("nesterov", momentum) == pytest.approx(
        2 * (1 + momentum) / (1 + 2 * momentum), rel=1e-9
    )


def test_nesterov_matrix_is_the_interim_point_step():
    h, alpha = 0.7, 0.6
    x, v = 0.3, -0.2
    g = x + alpha * v
    v_next = alpha * v - h * g
    expected = [x + v_next, v_next]
    assert iteration_matrix("nesterov", h, alpha) @ np.array([x, v]) == pytest.approx(expected)


def test_theoretical_limit_of_trial_configs():
    task = {"name": "quadratic", "a": 2.0, "condition": 25.0}
    momentum = {"name": "momentum", "momentum": 0.5}
    assert theoretical_limit({"task": task, "optimizer": momentum}) == pytest.approx(3 / 50)
    assert theoretical_limit({"task": task, "optimizer": {"name": "adam"}}) is None
    assert theoretical_limit({"task": {"name": "rosenbrock"}, "optimizer": momentum}) is None


def test_quadratic_task_reports_the_heavy_ball_limit():
    assert Quadratic(condition=50.0).max_stable_lr(0.9) == pytest.approx(3.8 / 50, rel=1e-9)
