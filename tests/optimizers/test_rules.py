"""Each optimizer agrees with a plain transcription of the lecture's algorithm."""

from __future__ import annotations

from functools import partial
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from optimizers import SGD, AdaGrad, Adam, Momentum, Nesterov, RMSProp

STEPS = 60

# The lecture's algorithms, transcribed line by line on one flat vector theta.
# grad(theta, k) is the gradient estimate on minibatch k at theta.


def lecture_sgd(theta, grad, eta):
    for k in range(STEPS):
        g = grad(theta, k)
        theta = theta - eta * g
    return theta


def lecture_momentum(theta, grad, eta, alpha):
    v = np.zeros_like(theta)
    for k in range(STEPS):
        g = grad(theta, k)
        v = alpha * v - eta * g
        theta = theta + v
    return theta


def lecture_nesterov(theta, grad, eta, alpha):
    v = np.zeros_like(theta)
    for k in range(STEPS):
        theta_interim = theta + alpha * v
        g = grad(theta_interim, k)
        v = alpha * v - eta * g
        theta = theta + v
    return theta


def lecture_adagrad(theta, grad, eta, delta):
    r = np.zeros_like(theta)
    for k in range(STEPS):
        g = grad(theta, k)
        r = r + g * g
        delta_theta = -eta / np.sqrt(delta + r) * g
        theta = theta + delta_theta
    return theta


def lecture_rmsprop(theta, grad, eta, rho, delta):
    r = np.zeros_like(theta)
    for k in range(STEPS):
        g = grad(theta, k)
        r = rho * r + (1 - rho) * g * g
        delta_theta = -eta / np.sqrt(delta + r) * g
        theta = theta + delta_theta
    return theta


def lecture_adam(theta, grad, epsilon, rho1, rho2, delta):
    s = np.zeros_like(theta)
    r = np.zeros_like(theta)
    t = 0
    for k in range(STEPS):
        g = grad(theta, k)
        t = t + 1
        s = rho1 * s + (1 - rho1) * g
        r = rho2 * r + (1 - rho2) * g * g
        s_hat = s / (1 - rho1**t)
        r_hat = r / (1 - rho2**t)
        delta_theta = -epsilon * s_hat / (np.sqrt(r_hat) + delta)
        theta = theta + delta_theta
    return theta


# Large deltas, so that putting delta on the wrong side of the square root shows.
CASES = [
    (SGD, dict(lr=0.05), partial(lecture_sgd, eta=0.05)),
    (Momentum, dict(lr=0.02, momentum=0.8), partial(lecture_momentum, eta=0.02, alpha=0.8)),
    (Nesterov, dict(lr=0.02, momentum=0.8), partial(lecture_nesterov, eta=0.02, alpha=0.8)),
    (AdaGrad, dict(lr=0.3, delta=1e-2), partial(lecture_adagrad, eta=0.3, delta=1e-2)),
    (
        RMSProp,
        dict(lr=0.01, rho=0.8, delta=1e-2),
        partial(lecture_rmsprop, eta=0.01, rho=0.8, delta=1e-2),
    ),
    (
        Adam,
        dict(lr=0.02, rho1=0.8, rho2=0.95, delta=1e-2),
        partial(lecture_adam, epsilon=0.02, rho1=0.8, rho2=0.95, delta=1e-2),
    ),
]


@pytest.mark.parametrize(("optimizer", "hyperparameters", "lecture"), CASES)
def test_matches_lecture_on_minibatch_least_squares(
    least_squares, optimizer, hyperparameters, lecture
):
    params = least_squares.params()
    losses = least_squares.train(optimizer(params, **hyperparameters), params, range(STEPS))

    start = least_squares.flatten(least_squares.start)
    expected = lecture(start, least_squares.flat_gradient)
    np.testing.assert_allclose(
        least_squares.flatten([p.data for p in params]), expected, rtol=0, atol=1e-12
    )
    assert np.abs(expected - start).max() > 0.1  # the run went somewhere
    assert np.mean(losses[-10:]) < 0.5 * np.mean(losses[:10])  # and learned


finite = st.floats(-1e3, 1e3, allow_subnormal=False)
vectors = arrays(np.float64, st.integers(1, 8), elements=finite)
learning_rates = st.floats(1e-6, 10.0)


@given(theta=vectors, lr=learning_rates, data=st.data())
def test_sgd_step_is_theta_minus_lr_g(theta, lr, data):
    g = data.draw(arrays(np.float64, theta.shape, elements=finite))
    param = SimpleNamespace(data=theta.copy(), grad=g)
    SGD([param], lr=lr).step()
    np.testing.assert_array_equal(param.data, theta - lr * g)


@given(theta=vectors, lr=learning_rates, momentum=st.floats(0.0, 0.99), data=st.data())
def test_first_momentum_step_is_an_sgd_step(theta, lr, momentum, data):
    """The velocity starts at zero, so the first step is -lr * g, and v remembers it."""
    g = data.draw(arrays(np.float64, theta.shape, elements=finite))
    param = SimpleNamespace(data=theta.copy(), grad=g)
    optimizer = Momentum([param], lr=lr, momentum=momentum)
    optimizer.step()
    np.testing.assert_array_equal(param.data, theta + (-lr * g))
    np.testing.assert_array_equal(optimizer.state[0]["v"], -lr * g)


@given(g=vectors, lr=learning_rates)
def test_first_adam_step_is_at_most_lr_per_element(g, lr):
    """With bias correction, s^ = g and r^ = g*g at t = 1: each element moves lr*|g|/(|g|+delta)."""
    param = SimpleNamespace(data=np.zeros_like(g), grad=g)
    Adam([param], lr=lr).step()
    np.testing.assert_allclose(param.data, -lr * g / (np.abs(g) + 1e-8), rtol=1e-12, atol=1e-300)
    assert np.all(np.abs(param.data) <= lr)


@given(g=vectors, lr=learning_rates)
def test_first_adagrad_step_divides_by_the_root_of_delta_plus_g_squared(g, lr):
    param = SimpleNamespace(data=np.zeros_like(g), grad=g)
    AdaGrad([param], lr=lr).step()
    np.testing.assert_allclose(param.data, -lr * g / np.sqrt(1e-7 + g * g), rtol=1e-12, atol=1e-300)
