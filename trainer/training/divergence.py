"""Divergence: a non-finite loss, gradient, parameter or optimizer state, or a loss blow-up."""

import math

import numpy as np

from trainer.training.result import Divergence


def first_non_finite(arrays) -> float | None:
    """The first non-finite element among the arrays, or None when all are finite."""
    for array in arrays:
        # A finite sum proves every element finite, with one cheap reduction per array; only when
        # it is not (a non-finite element, or finite values whose sum overflows) look closer.
        if not math.isfinite(float(array.sum())):
            bad = array[~np.isfinite(array)]
            if bad.size:
                return float(bad.flat[0])
    return None


class DivergenceMonitor:
    """Checked after every step; `check` returns a Divergence the first time training blows up."""

    def __init__(self, factor: float):
        self.factor = factor
        self.threshold = math.inf
        self.last_finite_loss: float | None = None

    def check(self, step: int, loss: float, params, optimizer) -> Divergence | None:
        if not math.isfinite(loss):
            return Divergence(step, "non-finite loss", self.last_finite_loss, loss)
        if loss > self.threshold:
            return Divergence(
                step, f"loss above {self.factor:g} x initial", self.last_finite_loss, loss
            )
        if self.last_finite_loss is None:
            self.threshold = self.factor * abs(loss) if loss != 0 else math.inf
        self.last_finite_loss = loss
        checks = (
            ("gradient", [p.grad for p in params if p.grad is not None]),
            ("parameter", [p.data for p in params]),
            ("optimizer state", list(optimizer.state_arrays())),
        )
        for what, arrays in checks:
            bad = first_non_finite(arrays)
            if bad is not None:
                return Divergence(step, f"non-finite {what}", loss, bad)
        return None
