"""Seeded synthetic linear regression y = X w + noise, fitted by minibatch mean squared error."""

import numpy as np

import autodiff
from autodiff import Tensor
from trainer.tasks.base import LinearModel, require_positive


class LinearRegression(LinearModel):
    name = "linear_regression"

    def __init__(self, n=1000, d=10, noise=0.1, val_fraction=0.2, data_seed=0, seed=0):
        require_positive(n=n, d=d)
        if not noise >= 0:
            raise ValueError(f"task.noise={noise} is not allowed: it must be >= 0")
        data_rng = np.random.default_rng(data_seed)
        x = data_rng.standard_normal((n, d))
        true_w = data_rng.standard_normal(d)
        y = x @ true_w + 1.0 + noise * data_rng.standard_normal(n)
        self.use_data(x, y, val_fraction, data_rng, seed)

    def loss(self, batch) -> Tensor:
        return autodiff.mse(self.linear(self.x[batch]), self.y[batch])

    def evaluate(self) -> dict[str, float]:
        with autodiff.no_grad():
            return {"val_loss": autodiff.mse(self.linear(self.x_val), self.y_val).item()}
