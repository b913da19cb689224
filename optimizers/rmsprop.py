"""RMSProp: AdaGrad with an exponentially weighted moving average of squared gradients."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from optimizers.hyperparameters import BETWEEN_ZERO_AND_ONE, POSITIVE, Hyperparameter
from optimizers.optimizer import Optimizer, Parameter, State


class RMSProp(Optimizer):
    """RMSProp(params, lr, rho=0.9, delta=1e-6), the lecture's form (delta inside the root):

    r <- rho r + (1 - rho) g * g
    theta <- theta - eta / sqrt(delta + r) * g
    """

    ranges = {"lr": POSITIVE, "rho": BETWEEN_ZERO_AND_ONE, "delta": POSITIVE}
    state_names = ("r",)

    rho: Hyperparameter
    delta: Hyperparameter

    def __init__(
        self,
        params: Iterable[Parameter],
        lr: Hyperparameter,
        rho: Hyperparameter = 0.9,
        delta: Hyperparameter = 1e-6,
    ) -> None:
        super().__init__(params, lr=lr, rho=rho, delta=delta)

    def update(self, theta: np.ndarray, g: np.ndarray, state: State) -> None:
        r = state["r"]
        r *= self.rho  # accumulate squared gradient: r <- rho r + (1 - rho) g (x) g
        r += (1 - self.rho) * g * g
        theta -= self.lr / np.sqrt(self.delta + r) * g  # theta <- theta - eta / sqrt(delta + r) g
