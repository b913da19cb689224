"""Seeded synthetic linear regression y = X w + noise, fitted by minibatch mean squared error."""

import numpy as np

import autodiff
from autodiff import Tensor
from optimizers.hyperparameters import BETWEEN_ZERO_AND_ONE, POSITIVE
from trainer.config.ranges import AT_LEAST_ZERO
from trainer.tasks.base import LinearModel, per_member


class LinearRegression(LinearModel):
    name = "linear_regression"
    trains_in_population = True
    ranges = {
        "n": POSITIVE,
        "d": POSITIVE,
        "noise": AT_LEAST_ZERO,
        "val_fraction": BETWEEN_ZERO_AND_ONE,
    }

    def __init__(
        self,
        n: int = 1000,
        d: int = 10,
        noise: float = 0.1,
        val_fraction: float = 0.2,
        data_seed: int = 0,
        seed: int = 0,
    ):
        self.check_ranges(n=n, d=d, noise=noise, val_fraction=val_fraction)
        data_rng = np.random.default_rng(data_seed)
        x = data_rng.standard_normal((n, d))
        true_w = data_rng.standard_normal(d)
        y = x @ true_w + 1.0 + noise * data_rng.standard_normal(n)
        self.use_data(x, y, val_fraction, data_rng, seed)

    def loss(self, batch) -> Tensor:
        return autodiff.mse(self.linear(self.x[batch]), self.y[batch], axis=-1)

    def evaluate(self) -> dict[str, float]:
        with autodiff.no_grad():
            loss = autodiff.mse(self.linear(self.x_val), self.y_val, axis=-1)
        return {"val_loss": per_member(loss.data)}
