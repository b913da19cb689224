"""The optimizers drive autodiff.Tensor parameters, gradients coming from backward()."""

from __future__ import annotations

import numpy as np
import pytest

from optimizers import Adam, Nesterov

autodiff = pytest.importorskip("autodiff")


@pytest.mark.parametrize(
    ("optimizer", "hyperparameters"),
    [(Nesterov, dict(lr=0.02, momentum=0.8)), (Adam, dict(lr=0.02))],
)
def test_autodiff_gradients_give_the_same_run_as_analytic_ones(
    least_squares, optimizer, hyperparameters
):
    w, b = (autodiff.Tensor(value.copy(), requires_grad=True) for value in least_squares.start)
    model_weights = w.data  # what a model holding w sees
    opt = optimizer([w, b], **hyperparameters)
    losses = []
    for k in range(50):
        x = autodiff.Tensor(least_squares.x[least_squares.batches[k]])
        y = autodiff.Tensor(least_squares.y[least_squares.batches[k]])

        def closure(x=x, y=y):
            opt.zero_grad()
            loss = 0.5 * autodiff.sum((x @ w + b - y) ** 2) / len(x.data)
            loss.backward()
            return loss

        losses.append(opt.step(closure).item())

    params = least_squares.params()
    expected = least_squares.train(optimizer(params, **hyperparameters), params, range(50))
    np.testing.assert_allclose(losses, expected, rtol=1e-12)
    np.testing.assert_allclose(w.data, params[0].data, rtol=0, atol=1e-12)
    np.testing.assert_allclose(b.data, params[1].data, rtol=0, atol=1e-12)
    assert w.data is model_weights
