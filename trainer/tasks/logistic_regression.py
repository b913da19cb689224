"""Seeded synthetic two-class data, a linear classifier trained by binary cross-entropy."""

import numpy as np

import autodiff
from autodiff import Tensor
from trainer.tasks.base import LinearModel, require_positive


def binary_cross_entropy(logits: Tensor, labels: np.ndarray) -> Tensor:
    """mean(log(1 + exp(z)) - y z), as relu(z) + log(1 + exp(-|z|)) - y z: it never overflows."""
    softplus = autodiff.relu(logits) + autodiff.log(1.0 + autodiff.exp(-autodiff.abs(logits)))
    return (softplus - labels * logits).mean()


class LogisticRegression(LinearModel):
    name = "logistic_regression"

    def __init__(self, n=1000, d=10, separation=1.0, val_fraction=0.2, data_seed=0, seed=0):
        require_positive(n=n, d=d)
        if not separation >= 0:
            raise ValueError(f"task.separation={separation} is not allowed: it must be >= 0")
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
            loss = binary_cross_entropy(logits, self.y_val).item()
        accuracy = float(np.mean((logits.data > 0) == (self.y_val > 0.5)))
        return {"val_loss": loss, "val_accuracy": accuracy}
