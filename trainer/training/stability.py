"""The exact stability limit of SGD, heavy-ball and Nesterov momentum on a quadratic bowl.

On f(theta) = 0.5 theta^T H theta the gradient is H theta, so every method of the lecture that is
linear in the gradient acts on each eigen-direction of H on its own. Along a direction with
eigenvalue lambda, write x for theta's coordinate, v for the velocity's, and h = lr * lambda:

heavy-ball momentum (v <- alpha v - eta g; theta <- theta + v), with g = lambda x:

    v' = alpha v - h x
    x' = x + v' = (1 - h) x + alpha v      =>   M = [[1 - h, alpha], [-h, alpha]]

Nesterov, the lecture's interim-point form (theta~ <- theta + alpha v; g <- grad at theta~;
v <- alpha v - eta g; theta <- theta + v), with g = lambda (x + alpha v):

    v' = alpha v - h (x + alpha v) = -h x + alpha (1 - h) v
    x' = x + v' = (1 - h) x + alpha (1 - h) v
                                        =>   M = [[1 - h, alpha (1 - h)], [-h, alpha (1 - h)]]

SGD is heavy-ball with alpha = 0 (v' = -h x, x' = (1 - h) x). The state (x, v) after k steps is
M^k (x0, v0), so it decays iff the spectral radius rho(M) < 1 and grows iff rho(M) > 1. For each
method the set of stable h is an interval (0, h*) (the Jury conditions on M's characteristic
polynomial z^2 - trace z + det hold exactly there), and rho(M) crosses 1 at h* through the
eigenvalue -1: the largest stable learning rate on the whole bowl is h* / lambda_max, set by the
steepest direction. `stable_lr_limit` finds h* numerically, by bisection on rho(M(h)) <= 1, from
the matrices above and nothing else; the tests compare it with the closed forms the same
polynomial gives, 2 (1 + alpha) for heavy-ball and 2 (1 + alpha) / (1 + 2 alpha) for Nesterov.
"""

import numpy as np

LINEAR_METHODS = ("sgd", "momentum", "nesterov")
RELATIVE_PRECISION = 1e-13


def iteration_matrix(method: str, h: float, momentum: float = 0.0) -> np.ndarray:
    """M with (x', v') = M (x, v) for one step along an eigen-direction, h = lr * lambda."""
    alpha = 0.0 if method == "sgd" else momentum
    if method in ("sgd", "momentum"):
        return np.array([[1 - h, alpha], [-h, alpha]])
    if method == "nesterov":
        return np.array([[1 - h, alpha * (1 - h)], [-h, alpha * (1 - h)]])
    raise ValueError(f"no iteration matrix for {method}; linear methods: {LINEAR_METHODS}")


def spectral_radius(matrix: np.ndarray) -> float:
    return float(np.max(np.abs(np.linalg.eigvals(matrix))))


def stable_step_limit(method: str, momentum: float = 0.0) -> float:
    """h*: the largest h = lr * lambda for which rho(M(h)) <= 1."""
    if not 0 <= momentum < 1:
        raise ValueError(f"momentum={momentum} is not allowed: it must be in [0, 1)")

    def stable(h: float) -> bool:
        return spectral_radius(iteration_matrix(method, h, momentum)) <= 1.0

    # Every h in (0, h*) is stable: double from h = 1 to the first unstable h, then bisect.
    low, high = 0.0, 1.0
    while stable(high):
        low, high = high, 2 * high
    while high - low > RELATIVE_PRECISION * high:
        middle = 0.5 * (low + high)
        if stable(middle):
            low = middle
        else:
            high = middle
    return low


def stable_lr_limit(method: str, lambda_max: float, momentum: float = 0.0) -> float:
    """The largest lr with rho(M) <= 1 on a quadratic whose top eigenvalue is lambda_max."""
    return stable_step_limit(method, momentum) / lambda_max


def theoretical_limit(config: dict) -> float | None:
    """The stability limit of a trial config, or None where theory has no closed answer
    (another task, an adaptive method)."""
    task, optimizer = config["task"], config["optimizer"]
    if task.get("name") != "quadratic" or optimizer.get("name") not in LINEAR_METHODS:
        return None
    # The bowl's Hessian is diag(a, a * condition), condition >= 1: its top eigenvalue.
    lambda_max = float(task["a"]) * float(task["condition"])
    return stable_lr_limit(optimizer["name"], lambda_max, float(optimizer.get("momentum", 0.0)))
