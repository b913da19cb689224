"""Each parameter's own learning rate in AdaGrad, RMSProp and Adam, read from their state."""

import numpy as np

from trainer.training.build import build_optimizer, build_task
from trainer.training.result import Result

# The factor each rule multiplies a parameter's gradient (or, in Adam, its first moment s^)
# by: the per-parameter learning rate the lecture's slides describe.
RATES = {
    "AdaGrad": lambda opt, state: opt.lr / np.sqrt(opt.delta + state["r"]),  # eta/sqrt(delta+r)
    "RMSProp": lambda opt, state: opt.lr / np.sqrt(opt.delta + state["r"]),  # eta/sqrt(delta+r)
    # epsilon / (sqrt(r^) + delta), r^ = r / (1 - rho2^t)
    "Adam": lambda opt, state: (
        opt.lr / (np.sqrt(state["r"] / (1 - opt.rho2 ** state["t"])) + opt.delta)
    ),
}

DEFINITION = (
    "per-parameter learning rate, read from the optimizer's state after each step: "
    "eta / sqrt(delta + r_i) for AdaGrad and RMSProp, epsilon / (sqrt(r^_i) + delta) for Adam "
    "(the factor its bias-corrected first moment s^_i is multiplied by)"
)


def per_parameter_rates(result: Result) -> tuple[np.ndarray, np.ndarray]:
    """(rates, path): the run replayed step by step with the same task and optimizer, its
    per-parameter rates (steps, n) and the path it took (steps + 1, n), which is the run's."""
    config = result.config
    task = build_task(config["task"], seed=config["trainer"]["seed"])
    optimizer = build_optimizer(config["optimizer"], task.parameters())
    rate = RATES[type(optimizer).__name__]
    rates, path = [], [task.point.data.copy()]
    for _ in range(result.steps_run):
        optimizer.zero_grad()
        task.loss().backward()
        optimizer.step()
        rates.append(rate(optimizer, optimizer.state[0]))
        path.append(task.point.data.copy())
    return np.array(rates), np.array(path)
