"""The interface every task implements: parameters, a minibatch loss, validation metrics."""

from typing import ClassVar

import numpy as np

from autodiff import Tensor
from optimizers.hyperparameters import Interval
from trainer.config.ranges import check_ranges
from trainer.tasks.shared_data import SharedData


class Task:
    """A training problem. Subclasses set `params` and implement `loss`.

    A task also trains a population (trainer/training/population.py): its parameters then hold
    P members' values stacked along a new leading axis, `loss(batch)` returns one loss per
    member (shape (P,)) and `evaluate` one value per member; `batch` is the members' shared
    row indices (B,) or each member's own (P, B).

    `n_train` is the number of training rows, or None for a deterministic full-batch objective
    (the quadratic and Rosenbrock), where `loss` gets `batch=None`. `ranges` declares the allowed
    range of each numeric argument, as an optimizer's `ranges` does; the constructor checks them.
    """

    name = "task"
    trains_in_population: ClassVar[bool] = False  # True where `loss` and `evaluate` take one
    ranges: ClassVar[dict[str, Interval]] = {}
    n_train: int | None = None
    params: list[Tensor]

    def check_ranges(self, **values) -> None:
        """Each of `ranges` in `values`; ValueError `task.<key>=<value> is not allowed: ...`."""
        check_ranges("task", values, self.ranges)

    @classmethod
    def dataset(cls, config: dict) -> "tuple[SharedData, tuple] | None":
        """The data a task built from `config` (its task node) loads, and its key, where one
        process can load it for others (a sweep's driver for its workers); None: none to share."""
        return None

    def parameters(self) -> list[Tensor]:
        return self.params

    def loss(self, batch: np.ndarray | None) -> Tensor:
        raise NotImplementedError

    def evaluate(self) -> dict[str, float]:
        """Validation metrics (`val_loss`, `val_accuracy`) where the task has a validation set."""
        return {}

    def batches(self, batch_size: int, rng: np.random.Generator):
        """Yield minibatch row indices forever: a fresh permutation each epoch, in order."""
        if self.n_train is None:
            while True:
                yield None
        while True:
            order = rng.permutation(self.n_train)
            for start in range(0, self.n_train, batch_size):
                yield order[start : start + batch_size]


class Surface2D(Task):
    """A 2-D objective f(x, y) over one parameter vector, drawn as contours under the trajectory."""

    def __init__(self, start):
        if len(start) != 2:
            raise ValueError(f"task.start={list(start)} is not allowed: it must hold 2 numbers")
        self.point = Tensor(np.array(start, dtype=np.float64), requires_grad=True)
        self.params = [self.point]

    def surface(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """The objective evaluated elementwise on numpy grids, for contour plots."""
        raise NotImplementedError

    def minimum(self) -> tuple[float, float]:
        raise NotImplementedError


class LinearModel(Task):
    """A linear model x @ w + b, fitted on a seeded train/validation split of (x, y)."""

    def use_data(self, x, y, val_fraction: float, data_rng, seed: int) -> None:
        train, val = split_rows(len(x), val_fraction, data_rng)
        self.x, self.y = x[train], y[train]
        self.x_val, self.y_val = x[val], y[val]
        self.n_train = len(train)
        init_rng = np.random.default_rng(seed)
        self.w = Tensor(0.01 * init_rng.standard_normal(x.shape[1]), requires_grad=True)
        self.b = Tensor(np.zeros(()), requires_grad=True)
        self.params = [self.w, self.b]

    def linear(self, x: np.ndarray) -> Tensor:
        """x @ w + b; for a population (w of shape (P, d)), each member's rows x[m] (or rows
        shared by all) times its own w[m], by np.matmul over the leading axis."""
        if self.w.ndim == 1:
            return Tensor(x) @ self.w + self.b
        out = Tensor(x) @ self.w.reshape(*self.w.shape, 1)  # (P, rows, 1)
        return out.reshape(out.shape[:-1]) + self.b.reshape(-1, 1)


def per_member(value) -> float | np.ndarray:
    """A metric as `evaluate` returns it: a float for one model, an array of one value per
    member for a population."""
    value = np.asarray(value)
    return float(value) if value.ndim == 0 else value


def split_rows(n: int, val_fraction: float, rng: np.random.Generator):
    """A seeded random split of n rows into train and validation index arrays."""
    n_val = max(1, int(round(n * val_fraction)))
    if n_val >= n:
        raise ValueError(
            f"task.n={n} is not allowed: with val_fraction={val_fraction} it leaves no training "
            "rows; it must be larger"
        )
    order = rng.permutation(n)
    return order[n_val:], order[:n_val]
