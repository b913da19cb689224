"""`bench.py sweep`'s baseline: the grid's trainings in one plain loop of hand_mlp.py's
hand-written numpy step (no engine, no Ray, no tracking), a process of its own, timed whole.

    python scripts/bench_serial.py SETUP.json RESULTS.json
"""

import json
import math
import sys
from pathlib import Path

import numpy as np
from hand_mlp import evaluate, hand_step


def initial_weights(sizes: list[int], seed: int, activation: str) -> list[np.ndarray]:
    """The task's starting weights: the engine's MLP is built only for its seeded draws (and
    the task's own split of the data is used: what is timed is the training loop)."""
    from autodiff import nn

    return [p.data.copy() for p in nn.MLP(sizes, activation=activation, seed=seed).parameters()]


def train(setup: dict, lr: float, momentum: float, data) -> dict:
    """One training, stopped as the sweep stops one: at a non-finite loss or a loss above
    `factor` x the first. Its final train loss and validation metrics, or its divergence step."""
    x, y, x_val, y_val = data
    rng = np.random.default_rng(setup["seed"])
    activation = setup.get("activation", "tanh")
    relu = activation == "relu"
    params = initial_weights(setup["sizes"], setup["seed"], activation)
    velocities = [np.zeros_like(p) for p in params]
    threshold, step, loss = math.inf, 0, math.nan
    while True:
        order = rng.permutation(len(x))  # a fresh permutation each epoch, in batches
        for start in range(0, len(x), setup["batch_size"]):
            batch = order[start : start + setup["batch_size"]]
            loss = float(hand_step(params, velocities, x[batch], y[batch], lr, momentum, relu))
            if not math.isfinite(loss) or loss > threshold:
                return {"divergence_step": step}
            if step == 0 and loss != 0:
                threshold = setup["factor"] * abs(loss)
            step += 1
            if step == setup["steps"]:
                return {"final_train_loss": loss, **evaluate(params, x_val, y_val, relu)}


def main(setup_file: str, results_file: str) -> None:
    setup = json.loads(Path(setup_file).read_text())
    from trainer.tasks.digits_mlp import split_digits

    data = split_digits(setup["val_fraction"], setup["data_seed"])
    with np.errstate(all="ignore"):
        results = [train(setup, lr, momentum, data) for lr, momentum in setup["points"]]
    Path(results_file).write_text(json.dumps(results))


if __name__ == "__main__":
    main(*sys.argv[1:])
