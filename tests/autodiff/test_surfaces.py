"""The fused surface ops: the lecture's formulas and gradients, equal to the chains they replace."""

import numpy as np
import pytest

from autodiff import Tensor, gradcheck
from autodiff.surfaces import quadratic_bowl, rosenbrock

CURVATURE = np.array([1.0, 50.0])
SHAPES = [(2,), (5, 2), (3, 4, 2)]


def points(shape, seed):
    """Points at scales from 1e-3 to 1e3, where rounding differences would show."""
    rng = np.random.default_rng(seed)
    return rng.standard_normal(shape) * 10.0 ** rng.integers(-3, 4, size=shape)


def backward_of(loss, seed=None):
    loss.backward(np.ones(loss.shape) if seed is None and loss.ndim else seed)


def bowl_chain(t):
    return 0.5 * (CURVATURE * t * t).sum(axis=-1)


def rosenbrock_chain(t):
    x, y = t[..., 0], t[..., 1]
    return (1.0 - x) ** 2 + 100.0 * (y - x * x) ** 2


@pytest.mark.parametrize("shape", SHAPES)
def test_the_bowl_is_half_theta_h_theta_with_gradient_h_theta_bit_for_bit(shape):
    for seed in range(20):
        theta = points(shape, seed)
        fused, chain = Tensor(theta.copy(), requires_grad=True), Tensor(theta, requires_grad=True)
        loss, chained = quadratic_bowl(fused, CURVATURE), bowl_chain(chain)
        backward_of(loss)
        backward_of(chained)
        expected = 0.5 * (CURVATURE * theta * theta).sum(axis=-1)
        assert np.array_equal(loss.data, expected) and np.array_equal(loss.data, chained.data)
        assert np.array_equal(fused.grad, CURVATURE * theta)  # grad f = H theta, exactly
        assert np.array_equal(fused.grad, chain.grad)  # what the chain of four ops gave


@pytest.mark.parametrize("shape", SHAPES)
def test_rosenbrock_equals_its_chain_of_ops(shape):
    for seed in range(20):
        theta = points(shape, seed)
        fused, chain = Tensor(theta.copy(), requires_grad=True), Tensor(theta, requires_grad=True)
        loss, chained = rosenbrock(fused), rosenbrock_chain(chain)
        backward_of(loss)
        backward_of(chained)
        assert np.array_equal(loss.data, chained.data)
        # The chain adds its terms of df/dx in another order: equal to a few ulp of the terms.
        x, y = theta[..., 0], theta[..., 1]
        scale = np.stack([2 * abs(1 - x) + 400 * abs(x * (y - x * x)), 200 * abs(y - x * x)], -1)
        assert np.all(np.abs(fused.grad - chain.grad) <= 1e-14 * scale + 1e-300)


def test_rosenbrock_gradient_is_zero_at_its_minimum_and_written_out_elsewhere():
    at_minimum = Tensor(np.array([1.0, 1.0]), requires_grad=True)
    loss = rosenbrock(at_minimum)
    loss.backward()
    assert loss.item() == 0.0 and np.array_equal(at_minimum.grad, [0.0, 0.0])
    start = Tensor(np.array([-1.5, 2.0]), requires_grad=True)
    rosenbrock(start).backward()
    # df/dx = -2 (1 - x) - 400 x (y - x^2) = -5 - 400 (-1.5) (-0.25); df/dy = 200 (-0.25)
    assert np.array_equal(start.grad, [-155.0, -50.0])


@pytest.mark.parametrize("shape", SHAPES)
def test_finite_differences_agree(shape):
    theta = np.random.default_rng(1).uniform(-2.0, 2.0, size=shape)
    assert gradcheck(lambda t: quadratic_bowl(t, CURVATURE), theta).ok(1e-7)
    assert gradcheck(rosenbrock, theta).ok(1e-7)


def test_each_point_of_a_population_is_scaled_by_its_own_upstream_gradient():
    theta = points((4, 2), 3)
    seed = np.array([1.0, -2.0, 0.5, 0.0])
    for op in (lambda t: quadratic_bowl(t, CURVATURE), rosenbrock):
        together = Tensor(theta.copy(), requires_grad=True)
        op(together).backward(seed)
        for m in range(4):
            alone = Tensor(theta[m].copy(), requires_grad=True)
            op(alone).backward()
            np.testing.assert_allclose(together.grad[m], seed[m] * alone.grad, rtol=1e-15)


def test_rosenbrock_refuses_points_that_are_not_pairs():
    with pytest.raises(ValueError, match=r"points \(\.\.\., 2\), got shape \(3,\)"):
        rosenbrock(Tensor(np.zeros(3), requires_grad=True))
