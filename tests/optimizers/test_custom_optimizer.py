"""A new optimizer is a subclass that writes only its rule, in a module outside the package."""

from __future__ import annotations

import numpy as np
import pytest
from custom_optimizers import SignSGD

from optimizers import FROM_ZERO_TO_ONE, POSITIVE, Optimizer


class ClippedMomentum(Optimizer):
    """v <- alpha v - eta clip(g, -c, c); theta <- theta + v."""

    ranges = {"lr": POSITIVE, "momentum": FROM_ZERO_TO_ONE, "clip": POSITIVE}
    state_names = ("v",)

    def __init__(self, params, lr, momentum=0.9, clip=1.0):
        super().__init__(params, lr=lr, momentum=momentum, clip=clip)

    def update(self, theta, g, state):
        v = state["v"]
        v *= self.momentum
        v -= self.lr * np.clip(g, -self.clip, self.clip)
        theta += v


def test_sign_sgd_trains_least_squares(least_squares):
    params = least_squares.params()
    optimizer = SignSGD(params, lr=0.01)
    losses = least_squares.train(optimizer, params, range(200))
    assert np.mean(losses[-20:]) < 0.1 * np.mean(losses[:20])
    assert optimizer.state == [{}, {}]


def test_sign_sgd_moves_each_coordinate_by_lr(least_squares):
    params = least_squares.params()
    least_squares.train(SignSGD(params, lr=0.01), params, range(1))
    for p, start in zip(params, least_squares.start, strict=True):
        np.testing.assert_allclose(np.abs(p.data - start), 0.01, rtol=1e-12)


def test_a_custom_optimizer_gets_checks_state_and_checkpoints_from_the_base(least_squares):
    with pytest.raises(
        ValueError, match=r"^clip=0 is not allowed: clip must be a real number > 0$"
    ):
        ClippedMomentum([], lr=0.1, clip=0)

    params = least_squares.params()
    optimizer = ClippedMomentum(params, lr=0.02, clip=0.5)
    losses = least_squares.train(optimizer, params, range(100))
    assert np.mean(losses[-10:]) < 0.1 * np.mean(losses[:10])
    assert [sorted(state) for state in optimizer.state] == [["v"], ["v"]]
    assert optimizer.state_dict()["hyperparameters"] == dict(lr=0.02, momentum=0.9, clip=0.5)
