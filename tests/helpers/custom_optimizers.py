"""Optimizers defined outside the package, plugged into sweeps through `optimizer._target_`."""

import numpy as np

from optimizers import Optimizer


class SignSGD(Optimizer):
    """theta <- theta - lr * sign(g): a user's own rule, written as a subclass's update only."""

    def update(self, theta, g, state):
        theta -= self.lr * np.sign(g)


class BrokenSGD(Optimizer):
    """Plain SGD that raises once lr reaches 0.1: a user's bug, for the failed-trial path."""

    def update(self, theta, g, state):
        if self.lr >= 0.1:
            raise RuntimeError(f"BrokenSGD cannot take lr={self.lr}")
        theta -= self.lr * g
