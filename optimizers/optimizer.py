"""The base optimizer: the loop over parameters, lazy per-parameter state, closures, checkpoints."""

from __future__ import annotations

import copy
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator
from typing import Any, ClassVar, Protocol

import numpy as np

from optimizers.hyperparameters import POSITIVE, Hyperparameter, Interval, check

State = dict[str, Any]  # state name -> ndarray, or a Python number (e.g. Adam's step count t)


class Parameter(Protocol):
    """What an optimizer needs of a parameter: its values and its gradient."""

    data: np.ndarray
    grad: np.ndarray | None


class Optimizer(ABC):
    """Base class of the gradient-descent rules of the lecture (Goodfellow et al., ch. 8).

    A parameter is any object with a float64 ndarray `.data`, which is updated in place so that
    every model holding the object sees the step, and a `.grad`: an ndarray of the same shape,
    or None to leave that parameter alone on this step.

    A subclass declares
      `ranges`: hyperparameter name -> allowed Interval, checked at construction
                (the base declares {"lr": POSITIVE}),
      `state_names`: the per-parameter state arrays, created lazily as zeros_like(theta),
    and writes only its rule, `update(theta, g, state)`: one elementwise step, in place.
    Hyperparameters become attributes (`self.lr`, ...); each may be a float or an ndarray that
    broadcasts to the parameter's shape, to train many configurations at once.

    `state` is a list with one dict per parameter, mapping state names to ndarrays, or to
    Python numbers for counters (Adam's t); `state_arrays()` yields every ndarray among them.
    """

    ranges: ClassVar[dict[str, Interval]] = {"lr": POSITIVE}
    state_names: ClassVar[tuple[str, ...]] = ()

    lr: Hyperparameter

    def __init__(
        self, params: Iterable[Parameter], lr: Hyperparameter, **hyperparameters: Hyperparameter
    ) -> None:
        self.params = list(params)
        for param in self.params:
            if not isinstance(getattr(param, "data", None), np.ndarray):
                raise TypeError(
                    f"{type(self).__name__} needs parameters with an ndarray .data and a .grad, "
                    f"got {type(param).__name__}"
                )
        self._set_hyperparameters({"lr": lr, **hyperparameters})
        self.state: list[State] = [{} for _ in self.params]

    @abstractmethod
    def update(self, theta: np.ndarray, g: np.ndarray, state: State) -> None:
        """Apply one step of the rule to theta (a parameter's data), in place, given gradient g."""

    def init_state(self, theta: np.ndarray) -> State:
        """Fresh state of one parameter: zeros_like(theta) for each of `state_names`."""
        return {name: np.zeros_like(theta) for name in self.state_names}

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient; return the closure's loss (or None).

        The closure zeroes the gradients, recomputes the loss and its gradients and returns the
        loss; it is called first, before the update.
        """
        loss = None if closure is None else closure()
        self.apply_updates()
        return loss

    def apply_updates(self) -> None:
        """Run `update` on each parameter whose grad is not None, creating its state lazily."""
        for param, state in zip(self.params, self.state, strict=True):
            g = param.grad
            if g is None:
                continue
            theta = param.data
            if g.shape != theta.shape:
                raise ValueError(f"gradient of shape {g.shape} for a parameter of {theta.shape}")
            if not state:
                state.update(self.init_state(theta))
            self.update(theta, g, state)

    def zero_grad(self) -> None:
        """Forget every gradient (set it to None)."""
        for param in self.params:
            param.grad = None

    def state_arrays(self) -> Iterator[np.ndarray]:
        """Every ndarray of optimizer state, e.g. to check them all for finiteness."""
        for state in self.state:
            yield from (value for value in state.values() if isinstance(value, np.ndarray))

    @property
    def hyperparameters(self) -> dict[str, Hyperparameter]:
        """The hyperparameters by name, in the order of `ranges`."""
        return {name: getattr(self, name) for name in self.ranges}

    def state_dict(self) -> dict[str, Any]:
        """A deep copy: {"optimizer": class name, "hyperparameters": {...}, "state": [...]}."""
        return copy.deepcopy(
            {
                "optimizer": type(self).__name__,
                "hyperparameters": self.hyperparameters,
                "state": self.state,
            }
        )

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Continue exactly where the optimizer that saved `state_dict` stopped."""
        name = type(self).__name__
        if state_dict["optimizer"] != name:
            raise ValueError(f"state of a {state_dict['optimizer']} cannot be loaded into a {name}")
        if len(state_dict["state"]) != len(self.params):
            raise ValueError(
                f"state of {len(state_dict['state'])} parameters cannot be loaded into "
                f"a {name} of {len(self.params)} parameters"
            )
        self._set_hyperparameters(copy.deepcopy(state_dict["hyperparameters"]))
        self.state = copy.deepcopy(list(state_dict["state"]))

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={value!r}" for name, value in self.hyperparameters.items())
        return f"{type(self).__name__}({shown})"

    def _set_hyperparameters(self, given: dict[str, Any]) -> None:
        if given.keys() != self.ranges.keys():
            raise TypeError(
                f"{type(self).__name__} takes hyperparameters {list(self.ranges)}, "
                f"got {list(given)}"
            )
        for name, value in given.items():
            setattr(self, name, check(name, value, self.ranges[name]))
