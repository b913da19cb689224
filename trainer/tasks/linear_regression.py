"""Seeded synthetic linear regression y = X w + noise, fitted by minibatch mean squared error."""

import numpy as np

import autodiff
from autodiff import Tensor
from trainer.tasks.base import Task, require_positive, split_rows


class LinearRegression(Task):
    name = "linear_regression"

    def __init__(self, n=1000, d=10, noise=0.1, val_fraction=0.2, data_seed=0, seed=0):
        require_positive(n=n, d=d)
        if not noise >= 0:
            raise ValueError(f"task.noise={noise} is not allowed: it must be >= 0")
        data_rng = np.random.default_rng(data_seed)
        x = data_rng.standard_normal((n, d))
        true_w = data_rng.standard_normal(d)
        y = x @ true_w + 1.0 + noise * data_rng.standard_normal(n)
        train, val = split_rows(n, val_fraction, data_rng)
        self.x, self.y = x[train], y[train]
        self.x_val, self.y_val = x[val], y[val]
        self.n_train = len(train)
        init_rng = np.random.default_rng(seed)
        self.w = Tensor(0.01 * init_rng.standard_normal(d), requires_grad=True)
        self.b = Tensor(np.zeros(()), requires_grad=True)
        self.params = [self.w, self.b]

    def predict(self, x: np.ndarray) -> Tensor:
        return Tensor(x) @ self.w + self.b

    def loss(self, batch) -> Tensor:
        return autodiff.mse(self.predict(self.x[batch]), self.y[batch])

    def evaluate(self) -> dict[str, float]:
        with autodiff.no_grad():
            return {"val_loss": autodiff.mse(self.predict(self.x_val), self.y_val).item()}
