"""The lecture's 2-D test surfaces as fused ops: one node each, its gradient written out."""

from __future__ import annotations

import numpy as np

from autodiff.backprop import accumulate
from autodiff.tensor import lift, result


def quadratic_bowl(point, curvature):
    """f(theta) = 1/2 theta^T H theta with H = diag(curvature), summed along the last axis.

    `point` has shape (..., n) (a population's points (P, n) give one value per member) and
    `curvature` the n diagonal entries of H. One node whose local gradient is the lecture's
    grad f = H theta, instead of a chain of two products, a sum and a scaling: the same value
    and, for the seed 1 that training uses, the same gradient bit for bit (the chain's two
    halves 0.5 H theta add up exactly).
    """
    point = lift(point)
    theta = point.data
    c = np.asarray(curvature, dtype=np.float64)
    value = 0.5 * _coordinate_sum(c * theta * theta)

    def backward(g):
        grad = c * theta  # grad f = H theta
        grad *= _per_point(g)  # the chain rule's factor: exact for the seed 1
        accumulate(point, grad)

    return result(value, (point,), backward, "quadratic_bowl")


def rosenbrock(point):
    """f(x, y) = (1 - x)^2 + 100 (y - x^2)^2 of each point along the last axis, of length 2.

    One node whose local gradient is written out:
        df/dx = -2 (1 - x) - 400 x (y - x^2),   df/dy = 200 (y - x^2).
    """
    point = lift(point)
    theta = point.data
    if theta.shape[-1:] != (2,):
        raise ValueError(f"rosenbrock takes points (..., 2), got shape {theta.shape}")
    x, y = _coordinates(theta)
    d = 1.0 - x
    r = y - x * x
    value = d * d + 100.0 * (r * r)

    def backward(g):
        df_dx = -2.0 * d - 400.0 * x * r
        df_dy = 200.0 * r
        grad = np.array([df_dx, df_dy]) if theta.ndim == 1 else np.stack([df_dx, df_dy], axis=-1)
        grad *= _per_point(g)  # the chain rule's factor: exact for the seed 1
        accumulate(point, grad)

    return result(value, (point,), backward, "rosenbrock")


def _coordinates(theta):
    """The coordinates of the points along the last axis: numpy scalars for one point (whose
    arithmetic costs a fraction of a 0-d array's), arrays of the leading shape for many."""
    return theta if theta.ndim == 1 else np.moveaxis(theta, -1, 0)


def _coordinate_sum(terms):
    """Each point's terms summed (along the last axis) as `np.add.reduce` sums them; for points
    of two coordinates, a population's (P, 2), their one addition: the same rounding, at a
    fraction of the cost of a reduction along rows of two."""
    if terms.ndim > 1 and terms.shape[-1] == 2:
        return terms[..., 0] + terms[..., 1]
    return np.add.reduce(terms, axis=-1)


def _per_point(g):
    """The upstream gradient, one value per point, shaped to scale each point's gradient row."""
    return g if g.ndim == 0 else g[..., None]
