"""Seeded synthetic two-class data, a linear classifier trained by binary cross-entropy."""

import numpy as np

import autodiff
from autodiff import Tensor
from trainer.tasks.base import Task, require_positive, split_rows


def binary_cross_entropy(logits: Tensor, labels: np.ndarray) -> Tensor:
    """mean(log(1 + exp(z)) - y z), as relu(z) + log(1 + exp(-|z|)) - y z: it never overflows."""
    softplus = autodiff.relu(logits) + autodiff.log(1.0 + autodiff.exp(-autodiff.abs(logits)))
    return (softplus - labels * logits).mean()


class LogisticRegression(Task):
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
        train, val = split_rows(n, val_fraction, data_rng)
        self.x, self.y = x[train], labels[train]
        self.x_val, self.y_val = x[val], labels[val]
        self.n_train = len(train)
        init_rng = np.random.default_rng(seed)
        self.w = Tensor(0.01 * init_rng.standard_normal(d), requires_grad=True)
        self.b = Tensor(np.zeros(()), requires_grad=True)
        self.params = [self.w, self.b]

    def logits(self, x: np.ndarray) -> Tensor:
        return Tensor(x) @ self.w + self.b

    def loss(self, batch) -> Tensor:
        return binary_cross_entropy(self.logits(self.x[batch]), self.y[batch])

    def evaluate(self) -> dict[str, float]:
        with autodiff.no_grad():
            logits = self.logits(self.x_val)
            loss = binary_cross_entropy(logits, self.y_val).item()
        accuracy = float(np.mean((logits.data > 0) == (self.y_val > 0.5)))
        return {"val_loss": loss, "val_accuracy": accuracy}
