"""Stochastic gradient descent: theta <- theta - eta * g."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from optimizers.hyperparameters import Hyperparameter
from optimizers.optimizer import Optimizer, Parameter, State


class SGD(Optimizer):
    """SGD(params, lr): theta <- theta - lr * g."""

    def __init__(self, params: Iterable[Parameter], lr: Hyperparameter) -> None:
        super().__init__(params, lr=lr)

    def update(self, theta: np.ndarray, g: np.ndarray, state: State) -> None:
        theta -= self.lr * g  # theta <- theta - eta g
