"""Divergence is caught at the step the analysis predicts, and a blow-up raises no warning."""

import math
import warnings

import numpy as np
import pytest

from trainer.contract import FINAL_TRAIN_LOSS
from trainer.training.loop import train

# The quadratic's defaults: f = 0.5 (a x^2 + b y^2), b = a * condition, from (x0, y0).
A, B = 1.0, 50.0
X0, Y0 = -10.0, 1.0
LAMBDA_MAX = B


def sgd_loss(lr: float, k: int) -> float:
    """SGD multiplies x by (1 - lr a) and y by (1 - lr b) each step: the loss before update k."""
    return 0.5 * (A * X0**2 * (1 - lr * A) ** (2 * k) + B * Y0**2 * (1 - lr * B) ** (2 * k))


def first_step_above(lr: float, factor: float, steps: int) -> int | None:
    threshold = factor * sgd_loss(lr, 0)
    for k in range(steps):
        if sgd_loss(lr, k) > threshold:
            # Far enough from the threshold that rounding cannot move the step.
            assert sgd_loss(lr, k) > threshold * (1 + 1e-6) and sgd_loss(lr, k - 1) < threshold
            return k
    return None


def sgd_config(compose, lr: float, steps: int, factor: float | None = None) -> dict:
    overrides = [
        "optimizer=sgd",
        f"optimizer.lr={lr!r}",
        "task=quadratic",
        f"trainer.steps={steps}",
    ]
    if factor is not None:
        overrides.append(f"trainer.divergence.factor={factor!r}")
    return compose(overrides)


def train_raising_warnings(config):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return train(config)


@pytest.mark.parametrize("factor", [None, 1e2, 1e6])
def test_sgd_just_above_two_over_lambda_max_diverges_at_the_predicted_step(compose, factor):
    lr = 1.02 * 2 / LAMBDA_MAX
    config = sgd_config(compose, lr, steps=1000, factor=factor)
    expected_factor = config["trainer"]["divergence"]["factor"]
    if factor is None:
        assert expected_factor == 1e4
    expected_step = first_step_above(lr, expected_factor, steps=1000)
    assert expected_step is not None

    result = train_raising_warnings(config)
    assert result.outcome == "diverged"
    assert result.divergence.step == expected_step
    reason = result.divergence.reason
    assert "loss" in reason and f"{expected_factor:g}" in reason and "non-finite" not in reason
    # Every recorded loss, the offending one included, is the analytic loss at its step.
    analytic = [sgd_loss(lr, k) for k in range(expected_step + 1)]
    np.testing.assert_allclose(result.train_loss, analytic, rtol=1e-9)
    assert result.divergence.value == result.train_loss[-1]
    assert result.divergence.last_finite_loss == result.train_loss[-2]
    assert result.final[FINAL_TRAIN_LOSS] == result.train_loss[-1]
    assert not any(key.startswith("final_val") for key in result.final)


def test_sgd_just_below_two_over_lambda_max_converges(compose):
    lr = 0.98 * 2 / LAMBDA_MAX
    assert first_step_above(lr, 1e4, steps=1000) is None
    result = train_raising_warnings(sgd_config(compose, lr, steps=1000))
    assert result.outcome == "converged"
    assert result.divergence is None
    assert result.steps_run == 1000
    np.testing.assert_allclose(
        result.train_loss[:50], [sgd_loss(lr, k) for k in range(50)], rtol=1e-9
    )
    assert result.final[FINAL_TRAIN_LOSS] < 1e-12


def first_non_finite(lr: float, steps: int) -> tuple[int, str]:
    """SGD on the quadratic transcribed in numpy: the first step whose loss, gradient or new
    point is not finite (the loss is evaluated before the update, the point checked after)."""
    curvature, point = np.array([A, B]), np.array([X0, Y0])
    with np.errstate(all="ignore"):
        for k in range(steps):
            loss = 0.5 * np.sum(curvature * point * point)
            if not math.isfinite(loss):
                return k, "loss"
            gradient = curvature * point
            if not np.all(np.isfinite(gradient)):
                return k, "gradient"
            point = point - lr * gradient
            if not np.all(np.isfinite(point)):
                return k, "parameter"
    raise AssertionError("stayed finite")


@pytest.mark.parametrize("lr", [1e160, 1e307])
def test_an_overflow_is_caught_as_non_finite_without_any_warning(compose, lr):
    step, what = first_non_finite(lr, steps=20)
    result = train_raising_warnings(sgd_config(compose, lr, steps=20))
    assert result.outcome == "diverged"
    assert result.divergence.step == step
    assert "non-finite" in result.divergence.reason and what in result.divergence.reason
    assert not math.isfinite(result.divergence.value)
    # Only finite losses are recorded: those before the step, and the step's own if it was.
    assert np.all(np.isfinite(result.train_loss))
    assert result.steps_run == (step if what == "loss" else step + 1)
    assert result.train_loss[0] == sgd_loss(lr, 0)


def test_a_diverging_minibatch_task_raises_no_warning(compose):
    config = compose(
        [
            "optimizer=sgd",
            "optimizer.lr=10000",
            "task=digits_mlp",
            "task.activation=relu",
            "trainer.steps=50",
        ]
    )
    result = train_raising_warnings(config)
    assert result.outcome == "diverged"
    assert result.divergence.step < 50
    assert np.all(np.isfinite(result.train_loss))
    assert result.evals == [] or all(e["step"] < result.divergence.step for e in result.evals)
