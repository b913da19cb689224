"""An MLP on scikit-learn's bundled 8x8 digits (no download), softmax cross-entropy."""

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import autodiff
from autodiff import Tensor
from autodiff.nn import MLP
from trainer.tasks.base import Task

ACTIVATIONS = ("tanh", "relu", "sigmoid")


class DigitsMLP(Task):
    name = "digits_mlp"

    def __init__(self, hidden=(64,), activation="tanh", val_fraction=0.2, data_seed=0, seed=0):
        if activation not in ACTIVATIONS:
            raise ValueError(
                f"task.activation={activation} is not allowed: it must be one of {ACTIVATIONS}"
            )
        if any(not size > 0 for size in hidden):
            raise ValueError(f"task.hidden={list(hidden)} is not allowed: sizes must be > 0")
        if not 0 < val_fraction < 1:
            raise ValueError(
                f"task.val_fraction={val_fraction} is not allowed: it must be in (0, 1)"
            )
        x, y = load_digits(return_X_y=True)
        x_train, x_val, self.y, self.y_val = train_test_split(
            x, y, test_size=val_fraction, stratify=y, random_state=data_seed
        )
        # Standardise with the training rows' statistics only; constant pixels stay at zero.
        mean, std = x_train.mean(axis=0), x_train.std(axis=0)
        std[std == 0] = 1.0
        self.x = (x_train - mean) / std
        self.x_val = (x_val - mean) / std
        self.n_train = len(self.x)
        self.model = MLP([x.shape[1], *hidden, 10], activation=activation, seed=seed)
        self.params = self.model.parameters()

    def loss(self, batch) -> Tensor:
        return autodiff.cross_entropy(self.model(Tensor(self.x[batch])), self.y[batch])

    def evaluate(self) -> dict[str, float]:
        with autodiff.no_grad():
            logits = self.model(Tensor(self.x_val))
            loss = autodiff.cross_entropy(logits, self.y_val).item()
        accuracy = float(np.mean(np.argmax(logits.data, axis=1) == self.y_val))
        return {"val_loss": loss, "val_accuracy": accuracy}
