"""Seeded synthetic two-class data, a linear classifier trained by binary cross-entropy."""

import numpy as np

import autodiff
from autodiff import Tensor
from optimizers.hyperparameters import BETWEEN_ZERO_AND_ONE, POSITIVE
from trainer.config.ranges import AT_LEAST_ZERO
from trainer.tasks.base import LinearModel, per_member


def binary_cross_entropy(logits: Tensor, labels: np.ndarray) -> Tensor:
    """mean(log(1 + exp(z)) - y z), as relu(z) + log(1 + exp(-|z|)) - y z: it never overflows.
    The mean is along the last axis: one loss per member of a population."""
    softplus = autodiff.relu(logits) + autodiff.log(1.0 + autodiff.exp(-autodiff.abs(logits)))
    return (softplus - labels * logits).mean(axis=-1)


class LogisticRegression(LinearModel):
    name = "logistic_regression"
    trains_in_population = True
    ranges = {
        "n": POSITIVE,
        "d": POSITIVE,
        "separation": AT_LEAST_ZERO,
        "val_fraction": BETWEEN_ZERO_AND_ONE,
    }

    def __init__(
        self,
        n: int = 1000,
        d: int = 10,
        separation: float = 1.0,
        val_fraction: float = 0.2,
        data_seed: int = 0,
        seed: int = 0,
    ):
        self.check_ranges(n=n, d=d, separation=separation, val_fraction=val_fraction)
        data_rng = np.random.default_rng(data_seed)
        labels = data_rng.integers(0, 2, n).astype(np.float64)
        direction = data_rng.standard_normal(d)
        direction /= np.linalg.norm(direction)
        x = data_rng.standard_normal((n, d)) + np.outer(2 * labels - 1, separation * direction)
        self.use_data(x, labels, val_fraction, data_rng, seed)

    def loss(self, batch) -> Tensor:
        return binary_cross_entropy(self.linear(self.x[batch]), self.y[batch])

    def evaluate(self) -> dict[str, float]:
        with autodiff.no_grad():
            logits = self.linear(self.x_val)
            loss = binary_cross_entropy(logits, self.y_val)
        accuracy = np.mean((logits.data > 0) == (self.y_val > 0.5), axis=-1)
        return {"val_loss": per_member(loss.data), "val_accuracy": per_member(accuracy)}
