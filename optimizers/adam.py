"""Adam: bias-corrected first and second moments of the gradient (adaptive moments)."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from optimizers.hyperparameters import BETWEEN_ZERO_AND_ONE, POSITIVE, Hyperparameter
from optimizers.optimizer import Optimizer, Parameter, State


class Adam(Optimizer):
    """Adam(params, lr=0.001, rho1=0.9, rho2=0.999, delta=1e-8), the lecture's form, where lr is
    the step size epsilon and delta sits outside the root:

        t <- t + 1
        s <- rho1 s + (1 - rho1) g               (biased first moment)
        r <- rho2 r + (1 - rho2) g * g           (biased second moment)
        s^ = s / (1 - rho1^t),  r^ = r / (1 - rho2^t)   (bias correction)
        delta_theta <- -epsilon s^ / (sqrt(r^) + delta)
        theta <- theta + delta_theta

    The time step t is counted per parameter (an int in its state, beside the arrays s and r),
    so a parameter that had no gradient on some steps gets the bias correction of its own updates.
    """

    ranges = {
        "lr": POSITIVE,
        "rho1": BETWEEN_ZERO_AND_ONE,
        "rho2": BETWEEN_ZERO_AND_ONE,
        "delta": POSITIVE,
    }
    state_names = ("s", "r")

    rho1: Hyperparameter
    rho2: Hyperparameter
    delta: Hyperparameter

    def __init__(
        self,
        params: Iterable[Parameter],
        lr: Hyperparameter = 0.001,
        rho1: Hyperparameter = 0.9,
        rho2: Hyperparameter = 0.999,
        delta: Hyperparameter = 1e-8,
    ) -> None:
        super().__init__(params, lr=lr, rho1=rho1, rho2=rho2, delta=delta)

    def init_state(self, theta: np.ndarray) -> State:
        return {"t": 0, **super().init_state(theta)}

    def update(self, theta: np.ndarray, g: np.ndarray, state: State) -> None:
        t = state["t"] = state["t"] + 1  # t <- t + 1
        s, r = state["s"], state["r"]
        # Each moment in two in-place steps, not as `s[...] = rho1 * s + (1 - rho1) * g`: that
        # one-liner makes two more passes over the array (a temporary and a copy back).
        s *= self.rho1  # s <- rho1 s + (1 - rho1) g
        s += (1 - self.rho1) * g
        r *= self.rho2  # r <- rho2 r + (1 - rho2) g (x) g
        r += (1 - self.rho2) * g * g
        s_hat = s / (1 - self.rho1**t)  # s^ <- s / (1 - rho1^t)
        r_hat = r / (1 - self.rho2**t)  # r^ <- r / (1 - rho2^t)
        delta_theta = -self.lr * s_hat / (np.sqrt(r_hat) + self.delta)  # -eps s^/(sqrt(r^) + delta)
        theta += delta_theta  # theta <- theta + delta_theta
