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
        v *= self.momentum  # v <- alpha v - eta g
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
        saved = []
        for param, state in zip(self.params, self.state, strict=True):
            if state:
                saved.append((param.data, param.data.copy()))
                param.data += self.momentum * state["v"]  # theta~ <- theta + alpha v
        try:
            loss = closure()
        finally:
            # Restore from a copy: subtracting alpha v again would not give theta back exactly.
            for theta, original in saved:
                np.copyto(theta, original)
        self.apply_updates()
        return loss
