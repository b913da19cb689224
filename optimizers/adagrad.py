"""AdaGrad: each parameter's step scaled by the root of its accumulated squared gradient."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from optimizers.hyperparameters import POSITIVE, Hyperparameter
from optimizers.optimizer import Optimizer, Parameter, State


class AdaGrad(Optimizer):
    """AdaGrad(params, lr, delta=1e-7), the lecture's form (lr is eta; delta inside the root):

    r <- r + g * g                                  (accumulate squared gradient)
    delta_theta <- -eta / sqrt(delta + r) * g       (elementwise)
    theta <- theta + delta_theta
    """

    ranges = {"lr": POSITIVE, "delta": POSITIVE}
    state_names = ("r",)

    delta: Hyperparameter

    def __init__(
        self, params: Iterable[Parameter], lr: Hyperparameter, delta: Hyperparameter = 1e-7
    ) -> None:
        super().__init__(params, lr=lr, delta=delta)

    def update(self, theta: np.ndarray, g: np.ndarray, state: State) -> None:
        r = state["r"]
        r += g * g  # r <- r + g (x) g
        delta_theta = -self.lr / np.sqrt(self.delta + r) * g  # -eta / sqrt(delta + r) (x) g
        theta += delta_theta  # theta <- theta + delta_theta
