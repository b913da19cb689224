"""A least-squares problem with fixed random minibatches, and stand-in parameters for it."""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace

import numpy as np
import pytest


class LeastSquares:
    """J(W, b) = 1/(2m) sum_i ||x_i W + b - y_i||^2 over minibatch k of m rows.

    Two parameters of different shapes, W (d, o) and b (o,), so optimizers loop over several;
    `flat_gradient` sees them as one vector theta, for plain transcriptions of the lecture.
    """

    def __init__(self, seed: int = 0, n: int = 64, d: int = 5, o: int = 2, m: int = 8) -> None:
        rng = np.random.default_rng(seed)
        self.x = rng.normal(size=(n, d))
        w_true, b_true = rng.normal(size=(d, o)), rng.normal(size=o)
        self.y = self.x @ w_true + b_true + 0.1 * rng.normal(size=(n, o))
        self.batches = [rng.choice(n, size=m, replace=False) for _ in range(200)]
        self.start = [rng.normal(size=(d, o)), rng.normal(size=o)]

    def params(self) -> list[SimpleNamespace]:
        """Fresh stand-ins for autodiff.Tensor (optimizers only use `.data` and `.grad`)."""
        return [SimpleNamespace(data=value.copy(), grad=None) for value in self.start]

    def loss_and_grads(self, w: np.ndarray, b: np.ndarray, k: int):
        x, y = self.x[self.batches[k]], self.y[self.batches[k]]
        residual = x @ w + b - y
        m = len(x)
        return 0.5 * np.sum(residual**2) / m, [x.T @ residual / m, residual.mean(axis=0)]

    def closure(self, params: list[SimpleNamespace], k: int) -> Callable[[], float]:
        """Zero the grads, compute loss and gradients at the params' current values."""

        def closure() -> float:
            for p in params:
                p.grad = None
            loss, grads = self.loss_and_grads(params[0].data, params[1].data, k)
            for p, g in zip(params, grads, strict=True):
                p.grad = g
            return loss

        return closure

    def train(self, optimizer, params: list[SimpleNamespace], steps: range) -> list[float]:
        """One optimizer step per minibatch k in `steps`; the losses the closures returned."""
        return [optimizer.step(self.closure(params, k)) for k in steps]

    def flatten(self, arrays: list[np.ndarray]) -> np.ndarray:
        return np.concatenate([a.ravel() for a in arrays])

    def flat_gradient(self, theta: np.ndarray, k: int) -> np.ndarray:
        """The minibatch-k gradient at theta = concat(W.ravel(), b)."""
        w_size = self.start[0].size
        w = theta[:w_size].reshape(self.start[0].shape)
        return self.flatten(self.loss_and_grads(w, theta[w_size:], k)[1])


@pytest.fixture(scope="session")
def least_squares() -> LeastSquares:
    return LeastSquares()
