"""`train(config) -> Result`: one training run, a pure function of a resolved config."""

import time

import numpy as np

from trainer.contract import FINAL_TRAIN_LOSS, final
from trainer.tasks.base import Surface2D, Task
from trainer.training.build import build_optimizer, build_task
from trainer.training.checkpoint import Checkpoint
from trainer.training.divergence import DivergenceMonitor
from trainer.training.range_test import RANGE_TEST, range_test_ended, range_test_schedule
from trainer.training.result import CONVERGED, DIVERGED, Result


def train(config: dict, on_step=None, resume: Checkpoint | None = None, keep=False) -> Result:
    """Train under `config` (keys optimizer, task, trainer); a diverged run is a result too.

    `on_step(step, loss)`, if given, is called after every step (a benchmark reports through it).
    With `resume`, the run continues from that checkpoint to `trainer.steps`; with `keep`, the
    Result carries the checkpoint of where it stopped (unless it diverged).
    """
    return train_with_task(config, on_step, resume, keep)[0]


def train_with_task(config: dict, on_step=None, resume=None, keep=False) -> tuple[Result, Task]:
    """`train`, also handing back the task it built and trained: a 2-D task's loss contours,
    drawn under the trajectory, come from it."""
    started = time.perf_counter()
    with np.errstate(all="ignore"):
        task = build_task(config["task"], seed=config["trainer"]["seed"])
        result = _train(config, task, on_step, resume, keep)
    result.wall_time = time.perf_counter() - started
    return result, task


def _train(config: dict, task: Task, on_step, resume: Checkpoint | None, keep: bool) -> Result:
    settings = config["trainer"]
    steps, eval_every = settings["steps"], settings["eval_every"]
    rng = np.random.default_rng(settings["seed"])
    params = task.parameters()
    optimizer = build_optimizer(config["optimizer"], params)
    monitor = DivergenceMonitor(settings["divergence"]["factor"])
    batches = task.batches(settings["batch_size"], rng)
    is_2d = isinstance(task, Surface2D)
    trajectory = [task.point.data.copy()] if is_2d else None
    # The range test (sweep.search=lr_range): lr grows geometrically every step.
    lr_at = range_test_schedule(config.get(RANGE_TEST), steps)

    losses = np.empty(steps)
    evals: list[dict] = []
    divergence = None
    start = steps_run = 0
    if resume is not None:
        start = steps_run = resume.step
        resume.restore(params, optimizer, monitor)
        for _ in range(start):
            next(batches)  # the same minibatches as one run from the start
        losses[:start] = resume.losses
        # A rung's last evaluation is kept only where a run to `steps` would have made it.
        evals = [e for e in resume.evals if (e["step"] + 1) % eval_every == 0]
        trajectory = list(resume.trajectory) if is_2d else None
    for step in range(start, steps):
        batch = next(batches)
        if lr_at is not None:
            optimizer.lr = lr_at(step)

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
        if lr_at is not None and range_test_ended(losses[: step + 1], config[RANGE_TEST]):
            break

    train_loss = losses[:steps_run].copy()
    finals = {FINAL_TRAIN_LOSS: float(train_loss[-1])} if steps_run else {}
    if evals and divergence is None:
        finals.update({final(k): v for k, v in evals[-1].items() if k != "step"})
    checkpoint = None
    if keep and divergence is None:
        checkpoint = Checkpoint(
            steps_run,
            [p.data.copy() for p in params],
            optimizer.state_dict(),
            monitor.threshold,
            monitor.last_finite_loss,
            train_loss,
            evals,
            trajectory,
        )
    return Result(
        config=config,
        outcome=CONVERGED if divergence is None else DIVERGED,
        train_loss=train_loss,
        evals=evals,
        final=finals,
        divergence=divergence,
        trajectory=np.array(trajectory) if is_2d else None,
        checkpoint=checkpoint,
    )
