"""The learning-rate range test (Smith 2017; fastai's lr_find): lr grows geometrically each step.

A trial of the range test carries its settings under the config key `range_test` (set by
`sweep.search=lr_range`, never by hand): the learning rate at step t of T is

    lr_t = low * (high / low) ** (t / (T - 1))

and the run ends once the loss exceeds `stop` times the best loss so far: past that point the
steps say nothing more about which rate trains.
"""

import math

import numpy as np

RANGE_TEST = "range_test"


def range_test_schedule(settings: dict | None, steps: int):
    """The learning rate of each step, or None for an ordinary run."""
    if settings is None:
        return None
    low, high = float(settings["low"]), float(settings["high"])
    ratio = math.log(high / low)
    last = max(steps - 1, 1)
    return lambda step: low * math.exp(ratio * step / last)


def range_test_ended(losses: np.ndarray, settings: dict) -> bool:
    """Whether the latest loss is past `stop` times the best loss so far."""
    best = float(np.min(losses))
    return bool(losses[-1] > float(settings["stop"]) * best) if best > 0 else False


def learning_rates(settings: dict, steps: int, count: int) -> np.ndarray:
    """The learning rate of each of the first `count` steps of a range test over `steps`."""
    schedule = range_test_schedule(settings, steps)
    return np.array([schedule(step) for step in range(count)])
