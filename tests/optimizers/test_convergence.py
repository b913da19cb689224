"""Each optimizer makes its way down the ill-conditioned quadratic f = 0.5 * (x^2 + 50 y^2)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from optimizers import SGD, AdaGrad, Adam, Momentum, Nesterov, RMSProp

CURVATURE = np.array([1.0, 50.0])  # f is steep along y, shallow along x


def f(theta: np.ndarray) -> float:
    return 0.5 * float(np.sum(CURVATURE * theta**2))


def descend(optimizer_class, steps: int, **hyperparameters) -> list[float]:
    """f at the start of each step, and at the end, from (1.5, -0.8)."""
    param = SimpleNamespace(data=np.array([1.5, -0.8]), grad=None)
    optimizer = optimizer_class([param], **hyperparameters)

    def closure() -> float:
        param.grad = CURVATURE * param.data
        return f(param.data)

    return [optimizer.step(closure) for _ in range(steps)] + [f(param.data)]


# Bars each method reaches with room to spare (the step where f first drops below the bar is
# in the comment). SGD must keep lr < 2/50 to be stable along y, so it crawls along x;
# momentum with the same kind of lr gets there several times sooner.
CASES = [
    (SGD, dict(lr=0.035), 300, 1e-8),  # 261
    (Momentum, dict(lr=0.06, momentum=0.57), 60, 1e-8),  # 44
    (Nesterov, dict(lr=0.02, momentum=0.7), 150, 1e-8),  # 117
    (AdaGrad, dict(lr=0.5), 50, 1e-8),  # 34
    (Adam, dict(lr=0.05), 250, 1e-8),  # 183
    # RMSProp with a constant lr stalls: once r ~ g*g its steps are about lr long whatever the
    # gradient, so y ends up flipping between +-lr/2 and f stays near 25 (lr/2)^2 = 6.25e-4.
    (RMSProp, dict(lr=0.01), 300, 1e-3),
]


@pytest.mark.parametrize(("optimizer", "hyperparameters", "steps", "bar"), CASES)
def test_reaches_the_bar(optimizer, hyperparameters, steps, bar):
    values = descend(optimizer, steps, **hyperparameters)
    assert values[-1] < bar
    assert values[0] > 1e4 * bar


def test_momentum_is_faster_than_sgd_at_the_same_learning_rate():
    sgd, momentum = (descend(cls, 150, lr=0.02) for cls in (SGD, Momentum))
    assert momentum[-1] < 1e-3 * sgd[-1]


def test_sgd_diverges_when_lr_exceeds_two_over_the_largest_curvature():
    assert descend(SGD, 50, lr=0.041)[-1] > 1e3
