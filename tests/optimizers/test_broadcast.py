"""Hyperparameters as arrays: k configurations trained at once, one per row of a parameter."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from optimizers import SGD, AdaGrad, Adam, Momentum, Nesterov, RMSProp

CURVATURE = np.array([1.0, 10.0, 50.0, 0.1])
NOISE = np.random.default_rng(1).normal(scale=0.5, size=(40, 4))  # one draw per step
START = np.array([1.0, -2.0, 0.5, 3.0])

# k = 3 configurations per optimizer; each listed hyperparameter gets one value per row.
CONFIGURATIONS = [
    (SGD, dict(lr=[0.001, 0.01, 0.03])),
    (Momentum, dict(lr=[0.001, 0.01, 0.03], momentum=[0.0, 0.5, 0.9])),
    (Nesterov, dict(lr=[0.001, 0.01, 0.03], momentum=[0.0, 0.5, 0.9])),
    (AdaGrad, dict(lr=[0.01, 0.1, 1.0], delta=[1e-7, 1e-3, 1e-1])),
    (RMSProp, dict(lr=[0.001, 0.01, 0.1], rho=[0.5, 0.9, 0.99], delta=[1e-6, 1e-3, 1e-1])),
    (
        Adam,
        dict(
            lr=[0.001, 0.01, 0.1],
            rho1=[0.5, 0.9, 0.99],
            rho2=[0.9, 0.99, 0.999],
            delta=[1e-8, 1e-4, 1e-2],
        ),
    ),
    (Adam, dict(lr=[0.001, 0.01, 0.1])),
]


def run(optimizer_class, start: np.ndarray, **hyperparameters) -> np.ndarray:
    """40 steps on f = 0.5 sum(a * theta^2) with a noisy gradient a * theta + noise_t."""
    param = SimpleNamespace(data=start.copy(), grad=None)
    optimizer = optimizer_class([param], **hyperparameters)
    for noise in NOISE:

        def closure(noise=noise):
            param.grad = CURVATURE * param.data + noise
            return 0.0

        optimizer.step(closure)
    return param.data


@pytest.mark.parametrize(("optimizer", "values"), CONFIGURATIONS)
def test_a_column_of_hyperparameters_trains_each_row_as_its_own_run(optimizer, values):
    k = len(values["lr"])
    together = run(
        optimizer,
        np.tile(START, (k, 1)),
        **{name: np.array(column)[:, None] for name, column in values.items()},
    )
    for i in range(k):
        alone = run(optimizer, START, **{name: column[i] for name, column in values.items()})
        np.testing.assert_allclose(together[i], alone, rtol=1e-13, atol=1e-15)
    assert not np.allclose(together[0], together[-1])  # the configurations differ
