"""RMSProp: AdaGrad with an exponentially weighted moving average of squared gradients."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from optimizers.hyperparameters import BETWEEN_ZERO_AND_ONE, POSITIVE, Hyperparameter
from optimizers.optimizer import Optimizer, Parameter, State


class RMSProp(Optimizer):
    """RMSProp(params, lr, rho=0.9, delta=1e-6), the lecture's form (delta inside the root):

    r <- rho r + (1 - rho) g * g                    (accumulate squared gradient)
    delta_theta <- -eta / sqrt(delta + r) * g       (elementwise)
    theta <- theta + delta_theta
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
        # r <- rho r + (1 - rho) g (x) g, as `r[...] = rho * r + (1 - rho) * g * g` would read,
        # in two in-place steps: that one-liner makes two more passes over r.
        r *= self.rho
        r += (1 - self.rho) * g * g
        delta_theta = -self.lr / np.sqrt(self.delta + r) * g  # -eta / sqrt(delta + r) (x) g
        theta += delta_theta  # theta <- theta + delta_theta
