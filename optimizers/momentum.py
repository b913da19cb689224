"""SGD with momentum and with Nesterov momentum: a velocity v that decays by alpha each step."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from optimizers.hyperparameters import FROM_ZERO_TO_ONE, POSITIVE, Hyperparameter
from optimizers.optimizer import Optimizer, Parameter, State


class Momentum(Optimizer):
    """Momentum(params, lr, momentum=0.9), the lecture's form (momentum is alpha, lr is eta):

        v <- alpha v - eta g
        theta <- theta + v

    The velocity v is the exponentially decaying average of the negative gradient.
    """

    ranges = {"lr": POSITIVE, "momentum": FROM_ZERO_TO_ONE}
    state_names = ("v",)

    momentum: Hyperparameter

    def __init__(
        self, params: Iterable[Parameter], lr: Hyperparameter, momentum: Hyperparameter = 0.9
    ) -> None:
        super().__init__(params, lr=lr, momentum=momentum)

    def update(self, theta: np.ndarray, g: np.ndarray, state: State) -> None:
        v = state["v"]
        # v <- alpha v - eta g, as `v[...] = momentum * v - lr * g` would read, in two in-place
        # steps: that one-liner makes two more passes over v (a temporary and a copy back).
        v *= self.momentum
        v -= self.lr * g
        theta += v  # theta <- theta + v


class Nesterov(Momentum):
    """Nesterov(params, lr, momentum=0.9): momentum with the gradient taken at the interim point.

        theta~ <- theta + alpha v          (interim point)
        g <- gradient at theta~
        v <- alpha v - eta g
        theta <- theta + v

    So `step` needs a closure: it moves each parameter to the interim point, calls the closure
    (which zeroes the gradients, recomputes loss and gradients and returns the loss), puts
    theta back exactly as it was, and applies the update.
    """

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        if closure is None:
            raise TypeError(
                "Nesterov.step() needs a closure: the gradient is taken at the interim point "
                "theta + momentum * v, so pass a function that zeroes the grads, recomputes "
                "the loss and its gradients there, and returns the loss"
            )
        moved = []
        for param, state in zip(self.params, self.state, strict=True):
            if not state:
                # This parameter's first step: v = 0, so theta~ = theta and nothing is shifted.
                continue
            theta = param.data.copy()
            # The interim point lives in the parameter's own array, where the closure's model
            # reads it.
            theta_tilde = param.data
            theta_tilde += self.momentum * state["v"]  # theta~ <- theta + alpha v
            moved.append((theta_tilde, theta))
        try:
            loss = closure()  # g <- gradient at theta~
        finally:
            # Back to theta from its copy: subtracting alpha v again would round.
            for theta_tilde, theta in moved:
                np.copyto(theta_tilde, theta)
        self.apply_updates()  # v <- alpha v - eta g;  theta <- theta + v
        return loss
