"""The lecture's ill-conditioned bowl f(x, y) = 0.5 * (a x^2 + b y^2), steep along y when b >> a."""

from collections.abc import Sequence

import numpy as np

from autodiff import Tensor
from autodiff.surfaces import quadratic_bowl
from optimizers.hyperparameters import POSITIVE
from trainer.config.ranges import AT_LEAST_ONE
from trainer.tasks.base import Surface2D
from trainer.training.stability import stable_lr_limit


class Quadratic(Surface2D):
    name = "quadratic"
    trains_in_population = True
    ranges = {"a": POSITIVE, "condition": AT_LEAST_ONE}

    def __init__(
        self,
        a: float = 1.0,
        condition: float = 50.0,
        start: Sequence[float] = (-10.0, 1.0),
        seed: int = 0,
    ):
        self.check_ranges(a=a, condition=condition)
        super().__init__(start)
        self.a = float(a)
        self.b = float(a) * float(condition)
        self.curvature = np.array([self.a, self.b])
        self.curvature_rows = self.curvature  # shaped as the point (see `loss`)

    @property
    def lambda_max(self) -> float:
        """The largest eigenvalue of the Hessian diag(a, b)."""
        return self.b

    def max_stable_lr(self, momentum: float = 0.0) -> float:
        """Heavy-ball momentum converges iff 0 < lr < 2 (1 + momentum) / lambda_max, found from
        its iteration matrix (trainer/training/stability.py)."""
        return stable_lr_limit("momentum", self.lambda_max, momentum)

    def loss(self, batch=None) -> Tensor:
        # f = 1/2 theta^T diag(a, b) theta, grad f = diag(a, b) theta, as one node; summed along
        # the last axis, so a population's points (P, 2) give one loss per member. The curvature
        # is given in the point's shape, a row per member of a population: the same products,
        # without broadcasting (a, b) along rows of two, which costs several times as much.
        if self.curvature_rows.shape != self.point.data.shape:
            self.curvature_rows = np.broadcast_to(self.curvature, self.point.data.shape).copy()
        return quadratic_bowl(self.point, self.curvature_rows)

    def surface(self, x, y):
        return 0.5 * (self.a * x * x + self.b * y * y)

    def minimum(self):
        return (0.0, 0.0)
