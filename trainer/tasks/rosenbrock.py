"""The 2-D Rosenbrock valley f(x, y) = (1 - x)^2 + 100 (y - x^2)^2, minimum 0 at (1, 1)."""

from collections.abc import Sequence

from autodiff import Tensor
from autodiff.surfaces import rosenbrock
from trainer.tasks.base import Surface2D


class Rosenbrock(Surface2D):
    name = "rosenbrock"
    trains_in_population = True

    def __init__(self, start: Sequence[float] = (-1.5, 2.0), seed: int = 0):
        super().__init__(start)

    def loss(self, batch=None) -> Tensor:
        # f = (1 - x)^2 + 100 (y - x^2)^2 as one node with its gradient written out (see
        # autodiff/surfaces.py); a population's points (P, 2) give one loss per member.
        return rosenbrock(self.point)

    def surface(self, x, y):
        return (1.0 - x) ** 2 + 100.0 * (y - x * x) ** 2

    def minimum(self):
        return (1.0, 1.0)
