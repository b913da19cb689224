"""`train(config) -> Result`: one training run, a pure function of a resolved config."""

import time

import numpy as np

from trainer.contract import FINAL_TRAIN_LOSS, final
from trainer.tasks.base import Surface2D, Task
from trainer.training.build import build_optimizer, build_task
from trainer.training.divergence import DivergenceMonitor
from trainer.training.result import CONVERGED, DIVERGED, Result


def train(config: dict, on_step=None) -> Result:
    """Train under `config` (keys optimizer, task, trainer); a diverged run is a result too.

    `on_step(step, loss)`, if given, is called after every step (a benchmark reports through it).
    """
    return train_with_task(config, on_step)[0]


def train_with_task(config: dict, on_step=None) -> tuple[Result, Task]:
    """`train`, also handing back the task it built and trained: a 2-D task's loss contours,
    drawn under the trajectory, come from it."""
    started = time.perf_counter()
    with np.errstate(all="ignore"):
        task = build_task(config["task"], seed=config["trainer"]["seed"])
        result = _train(config, task, on_step)
    result.wall_time = time.perf_counter() - started
    return result, task


def _train(config: dict, task: Task, on_step) -> Result:
    settings = config["trainer"]
    steps, eval_every = settings["steps"], settings["eval_every"]
    rng = np.random.default_rng(settings["seed"])
    params = task.parameters()
    optimizer = build_optimizer(config["optimizer"], params)
    monitor = DivergenceMonitor(settings["divergence"]["factor"])
    batches = task.batches(settings["batch_size"], rng)
    is_2d = isinstance(task, Surface2D)
    trajectory = [task.point.data.copy()] if is_2d else None

    losses = np.empty(steps)
    evals: list[dict] = []
    divergence = None
    steps_run = 0
    for step in range(steps):
        batch = next(batches)

        def closure(batch=batch):
            optimizer.zero_grad()
            loss = task.loss(batch)
            loss.backward()
            return loss

        loss = optimizer.step(closure).item()
        divergence = monitor.check(step, loss, params, optimizer)
        if divergence is not None:
            # A loss blown past the threshold is still a real, finite point of the curve.
            if np.isfinite(loss):
                losses[step] = loss
                steps_run = step + 1
            break
        losses[step] = loss
        steps_run = step + 1
        if on_step is not None:
            on_step(step, loss)
        if is_2d:
            trajectory.append(task.point.data.copy())
        if (step + 1) % eval_every == 0 or step + 1 == steps:
            metrics = task.evaluate()
            if metrics:
                evals.append({"step": step, **metrics})

    train_loss = losses[:steps_run].copy()
    finals = {FINAL_TRAIN_LOSS: float(train_loss[-1])} if steps_run else {}
    if evals and divergence is None:
        finals.update({final(k): v for k, v in evals[-1].items() if k != "step"})
    return Result(
        config=config,
        outcome=CONVERGED if divergence is None else DIVERGED,
        train_loss=train_loss,
        evals=evals,
        final=finals,
        divergence=divergence,
        trajectory=np.array(trajectory) if is_2d else None,
    )
