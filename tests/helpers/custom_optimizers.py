"""A user's own optimizers, outside the project's packages, plugged in by `optimizer._target_`."""

import numpy as np

from optimizers import POSITIVE, Optimizer


class SignSGD(Optimizer):
    """theta <- theta - lr * sign(g): every coordinate moves by exactly lr, or stays where g = 0.

    A user's own rule, written as a subclass's update only.
    """

    def update(self, theta, g, state):
        theta -= self.lr * np.sign(g)


class ClippedSGD(Optimizer):
    """theta <- theta - lr * clip(g, -clip, clip): a hyperparameter the schemas do not know."""

    ranges = {"lr": POSITIVE, "clip": POSITIVE}

    def __init__(self, params, lr, clip=1.0):
        super().__init__(params, lr=lr, clip=clip)

    def update(self, theta, g, state):
        theta -= self.lr * np.clip(g, -self.clip, self.clip)


class BrokenSGD(Optimizer):
    """Plain SGD that raises once lr reaches 0.1: a user's bug, for the failed-trial path."""

    def update(self, theta, g, state):
        if self.lr >= 0.1:
            raise RuntimeError(f"BrokenSGD cannot take lr={self.lr}")
        theta -= self.lr * g
