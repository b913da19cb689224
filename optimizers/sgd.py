"""Stochastic gradient descent: theta <- theta - eta * g."""

from __future__ import annotations

import numpy as np

from optimizers.optimizer import Optimizer, State


class SGD(Optimizer):
    """SGD(params, lr): theta <- theta - lr * g."""

    def update(self, theta: np.ndarray, g: np.ndarray, state: State) -> None:
        theta -= self.lr * g  # theta <- theta - eta g
