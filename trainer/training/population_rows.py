"""A population's arrays as one row per member: the optimizer's view, and its state split and
stacked member by member."""

import numpy as np


def member_rows(array: np.ndarray) -> np.ndarray:
    """An array of a population as one row per member (P, n): a view of its C-ordered data."""
    return array.reshape(len(array), -1)


class MemberRows:
    """A parameter as the optimizer sees it in a population: one row per member, (P, n), views
    of the Tensor's data and gradient, so a hyperparameter of shape (P, 1) is each member's own."""

    def __init__(self, tensor):
        self.tensor = tensor

    @property
    def data(self) -> np.ndarray:
        return member_rows(self.tensor.data)

    @property
    def grad(self) -> np.ndarray | None:
        g = self.tensor.grad
        return None if g is None else member_rows(g)

    @grad.setter
    def grad(self, value) -> None:
        self.tensor.grad = value


def own_row(value, m: int, shape: tuple):
    """Member m's part of one optimizer state value: its row in the parameter's shape, or the
    counter all members share."""
    return value[m].reshape(shape).copy() if isinstance(value, np.ndarray) else value


def stacked_state(states: list[dict]) -> dict:
    """One parameter's optimizer state for all members, from each member's own: arrays as rows
    (P, n); a counter (Adam's t) is the same for every member."""
    if not states[0]:
        return {}
    return {
        name: member_rows(np.stack([s[name] for s in states]))
        if isinstance(value, np.ndarray)
        else value
        for name, value in states[0].items()
    }
