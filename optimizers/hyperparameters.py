"""Allowed ranges of hyperparameters: declared once per optimizer, checked at construction."""

from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Real

import numpy as np

Hyperparameter = float | np.ndarray


@dataclass(frozen=True)
class Interval:
    """An interval of finite real numbers, open or closed at each end (an infinite end is open)."""

    low: float
    high: float = math.inf
    low_closed: bool = False
    high_closed: bool = False

    def __str__(self) -> str:
        if math.isinf(self.high):
            return f"{'>=' if self.low_closed else '>'} {self.low:g}"
        left = "[" if self.low_closed else "("
        right = "]" if self.high_closed else ")"
        return f"in {left}{self.low:g}, {self.high:g}{right}"

    def contains(self, values: np.ndarray) -> np.ndarray:
        """Elementwise membership; NaN and infinities are never members."""
        above = values >= self.low if self.low_closed else values > self.low
        below = values <= self.high if self.high_closed else values < self.high
        return above & below & np.isfinite(values)


POSITIVE = Interval(0.0)
"""> 0: learning rates, step sizes, the small constant delta."""

FROM_ZERO_TO_ONE = Interval(0.0, 1.0, low_closed=True)
"""[0, 1): the momentum parameter alpha (0 turns momentum off)."""

BETWEEN_ZERO_AND_ONE = Interval(0.0, 1.0)
"""(0, 1): the decay rates rho, rho1, rho2."""


def check(name: str, value: object, allowed: Interval) -> Hyperparameter:
    """Return `value` as a float, or a float64 array checked element by element.

    A value outside `allowed`, or one that is not a real number (a string, a bool, None, NaN),
    raises ValueError in one line naming the parameter, the value and the allowed range.
    """
    if isinstance(value, np.ndarray) and value.ndim > 0:
        return _check_array(name, value, allowed)
    if isinstance(value, np.ndarray):
        value = value[()]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, Real) and not isinstance(value, bool):
        number = _to_float(value)
        if allowed.contains(np.float64(number)):
            return number
    raise _rejection(f"{name}={value!r}", name, allowed)


def _check_array(name: str, value: np.ndarray, allowed: Interval) -> np.ndarray:
    if value.dtype.kind not in "iuf":
        raise _rejection(f"{name}=array(dtype={value.dtype})", name, allowed)
    array = np.array(value, dtype=np.float64)
    outside = ~allowed.contains(array)
    if outside.any():
        index = tuple(int(i) for i in np.argwhere(outside)[0])
        where = ", ".join(map(str, index))
        raise _rejection(f"{name}[{where}]={array[index].item()!r}", name, allowed)
    return array


def _to_float(value: Real) -> float:
    try:
        return float(value)
    except OverflowError:
        return math.inf


def _rejection(shown: str, name: str, allowed: Interval) -> ValueError:
    return ValueError(f"{shown} is not allowed: {name} must be a real number {allowed}")
