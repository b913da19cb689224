"""The quadratic and Rosenbrock training steps written directly in numpy, gradients derived by
hand: what `bench.py autodiff` times the engine's steps on those two tasks against."""

import numpy as np


def momentum(theta, velocity, g, lr, alpha):
    """v <- alpha v - eta g;  theta <- theta + v, in place."""
    velocity *= alpha
    velocity -= lr * g
    theta += velocity


def quadratic_step(theta, velocity, curvature, lr, alpha):
    """f = 0.5 * sum(c * theta^2), whose gradient is c * theta; then Momentum. Returns f before
    the step."""
    loss = 0.5 * (curvature * theta * theta).sum()
    momentum(theta, velocity, curvature * theta, lr, alpha)
    return loss


def rosenbrock_step(theta, velocity, lr, alpha):
    """f = (1 - x)^2 + 100 (y - x^2)^2, whose gradient is
    (-2 (1 - x) - 400 x (y - x^2), 200 (y - x^2)); then Momentum. Returns f before the step."""
    x, y = theta
    r = y - x * x
    loss = (1.0 - x) ** 2 + 100.0 * r**2
    momentum(theta, velocity, np.array([-2.0 * (1.0 - x) - 400.0 * x * r, 200.0 * r]), lr, alpha)
    return loss
