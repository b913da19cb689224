"""`train_population(configs) -> [Result]`: many runs of one task trained as one numpy program.

The members share task, optimizer, architecture, batch size and step budget (`population_key`)
and differ in hyperparameters and seed. Every parameter and optimizer state gets a leading
member axis; a hyperparameter that differs is an array of shape (P, 1) (or (P, n) where every row
is n wide) against each parameter seen as one row per member (P, n); each member keeps its own
initialisation and minibatches.
Member m computes what `train(configs[m])` computes: the same numpy operations on its own
slices, nothing reduced across members. A member that diverges is recorded and dropped from
every array (selected out, never masked by multiplying), so it costs nothing after.
"""

import functools
import json
import time

import numpy as np
from hydra.utils import get_class

from optimizers import SGD, AdaGrad, Adam, Momentum, Nesterov, RMSProp
from trainer.contract import FINAL_TRAIN_LOSS, final
from trainer.tasks.base import Surface2D
from trainer.training.build import build_optimizer, build_task
from trainer.training.checkpoint import Checkpoint
from trainer.training.population_curves import Curves
from trainer.training.population_monitor import PopulationMonitor
from trainer.training.population_rows import MemberRows, own_row, stacked_state
from trainer.training.range_test import RANGE_TEST
from trainer.training.result import CONVERGED, DIVERGED, Result

# The rules whose update is elementwise (each member's rows alone): the project's own.
OWN_OPTIMIZERS = (SGD, Momentum, Nesterov, AdaGrad, RMSProp, Adam)


def population_key(config: dict, resume: Checkpoint | None = None) -> str | None:
    """What the members of one population share, as text; None for a run that trains alone: the
    learning-rate range test (its lr changes every step), and any task or optimizer other than
    the project's own (a user's rule may reduce over a whole parameter, across members)."""
    if config.get(RANGE_TEST) is not None:
        return None
    task, optimizer = config["task"], config["optimizer"]
    task_class, rule = located(task.get("_target_")), located(optimizer.get("_target_"))
    if not getattr(task_class, "trains_in_population", False) or rule not in OWN_OPTIMIZERS:
        return None
    shared = {
        "task": task,
        "trainer": {k: v for k, v in config["trainer"].items() if k != "seed"},
        "optimizer": {k: v for k, v in optimizer.items() if not is_hyperparameter(k)},
        "hyperparameters": sorted(k for k in optimizer if is_hyperparameter(k)),
        "from": 0 if resume is None else resume.step,
    }
    return json.dumps(shared, sort_keys=True, default=str)


def is_hyperparameter(key: str) -> bool:
    return not key.startswith("_") and key != "name"


@functools.cache
def located(target) -> type | None:
    try:
        return get_class(target)
    except Exception:
        return None  # trained alone, where the error (if any) is reported as for any run


def train_population(
    configs: list[dict], resumes: list[Checkpoint] | None = None, keep=False
) -> tuple[list[Result], dict[int, object]]:
    """Train the configs (one `population_key`) as one program; a Result per config, in order,
    and each seed's task (a 2-D task's contours are drawn from it)."""
    started = time.perf_counter()
    with np.errstate(all="ignore"):
        seeds = [c["trainer"]["seed"] for c in configs]
        tasks = {seed: build_task(configs[0]["task"], seed=seed) for seed in dict.fromkeys(seeds)}
        results = Population(configs, tasks, resumes).train(keep)
    share = (time.perf_counter() - started) / len(configs)
    for result in results:
        result.wall_time, result.population = share, len(configs)
    return results, tasks


class Population:
    """The arrays of the members still training, and each member's record so far."""

    def __init__(self, configs, tasks, resumes):
        self.configs = configs
        settings = configs[0]["trainer"]
        self.steps, self.eval_every = settings["steps"], settings["eval_every"]
        seeds = [c["trainer"]["seed"] for c in configs]
        # The first seed's task computes every member's loss: its parameters get the members'
        # values stacked along a new leading axis.
        self.task = tasks[seeds[0]]
        self.tensors = self.task.parameters()
        for i, tensor in enumerate(self.tensors):
            tensor.data = np.stack([tasks[seed].parameters()[i].data for seed in seeds])
        self.rows = [MemberRows(t) for t in self.tensors]
        self.optimizer = build_optimizer(configs[0]["optimizer"], self.rows)
        # Where every parameter's row has one width n (a 2-D surface's point), a hyperparameter
        # that differs is each member's value repeated along its row, (P, n) rather than (P, 1):
        # the same products, without broadcasting along rows too short for it to pay.
        width, *others = {row.data.shape[1] for row in self.rows}
        for name, values in differing_hyperparameters(configs).items():
            values = np.repeat(values, 1 if others else width, axis=1)
            setattr(self.optimizer, name, values)  # an ndarray hyperparameter, as Optimizer allows
        self.monitor = PopulationMonitor(settings["divergence"]["factor"], len(configs))
        # Members with one seed draw the same minibatches: one generator per seed.
        self.orders = {
            seed: tasks[seed].batches(settings["batch_size"], np.random.default_rng(seed))
            for seed in dict.fromkeys(seeds)
        }
        self.seeds = np.array(seeds)
        self.alive = np.arange(len(configs))  # the members still training, by config index
        self.steps_run = np.zeros(len(configs), dtype=int)
        self.evals: list[list[dict]] = [[] for _ in configs]
        self.is_2d = isinstance(self.task, Surface2D)
        start = self.task.point.data if self.is_2d else None
        self.curves = Curves(len(configs), self.steps, start)
        self.start = 0
        if resumes is not None:
            self.resume(resumes)
        self.results: dict[int, Result] = {}

    def resume(self, checkpoints: list[Checkpoint]) -> None:
        """Continue every member from its checkpoint (all at one step), as `train` resumes one."""
        start = self.start = checkpoints[0].step
        for i, tensor in enumerate(self.tensors):
            tensor.data = np.stack([c.params[i] for c in checkpoints])
        self.optimizer.state = [
            stacked_state([c.optimizer["state"][i] for c in checkpoints])
            for i in range(len(self.tensors))
        ]
        self.monitor.threshold = np.array([c.threshold for c in checkpoints])
        last = [np.nan if c.last_finite_loss is None else c.last_finite_loss for c in checkpoints]
        self.monitor.last_finite_loss = np.array(last, dtype=float)
        for order in self.orders.values():
            for _ in range(start):
                next(order)  # the same minibatches as one run from the start
        curves = self.curves
        for m, c in enumerate(checkpoints):
            curves.losses[m, :start] = c.losses
            self.evals[m] = [e for e in c.evals if (e["step"] + 1) % self.eval_every == 0]
            if self.is_2d:
                curves.trajectory[m, : start + 1] = np.array(c.trajectory)
        curves.resume_at(start)
        self.steps_run[:] = start

    def train(self, keep: bool) -> list[Result]:
        task, optimizer, curves = self.task, self.optimizer, self.curves
        seed = np.ones(len(self.alive))  # each member's own loss, seeded with 1
        for step in range(self.start, self.steps):
            batch = self.next_batch()

            def closure(batch=batch, seed=seed):
                optimizer.zero_grad()
                loss = task.loss(batch)
                loss.backward(seed)
                return loss

            loss = optimizer.step(closure).data
            diverged = self.monitor.check(step, loss, self.rows, optimizer)
            curves.add_loss(loss)
            if diverged or curves.full():
                curves.write(self.alive)
            if diverged:
                self.steps_run[self.alive] = step + 1
                for m, event in diverged.items():
                    member = self.alive[m]
                    # A loss blown past the threshold is still a real, finite point of the curve.
                    self.steps_run[member] = step + 1 if np.isfinite(loss[m]) else step
                    self.results[member] = self.result(member, m, event, keep=False)
                self.drop(np.isin(np.arange(len(self.alive)), list(diverged), invert=True))
                if not len(self.alive):
                    break
                seed = np.ones(len(self.alive))
            if self.is_2d:
                curves.add_point(task.point.data)
            if (step + 1) % self.eval_every == 0 or step + 1 == self.steps:
                self.evaluate(step)
        curves.write(self.alive)
        self.steps_run[self.alive] = self.steps  # every member still training ran them all
        for m, member in enumerate(self.alive):
            self.results[member] = self.result(member, m, None, keep)
        return [self.results[member] for member in range(len(self.configs))]

    def next_batch(self):
        """The members' minibatch row indices: shared (B,) when they share a seed, else (P, B)."""
        drawn = {seed: next(order) for seed, order in self.orders.items()}
        if len(drawn) == 1:
            return next(iter(drawn.values()))
        return np.stack([drawn[seed] for seed in self.seeds[self.alive]])

    def drop(self, kept: np.ndarray) -> None:
        """Only the members selected by `kept` train on: every array loses the others' rows."""
        self.alive = self.alive[kept]
        for tensor in self.tensors:
            tensor.data = tensor.data[kept]
            tensor.grad = None
        for state in self.optimizer.state:
            for name, value in state.items():
                if isinstance(value, np.ndarray):
                    state[name] = value[kept]
        for name, value in self.optimizer.hyperparameters.items():
            if isinstance(value, np.ndarray):
                setattr(self.optimizer, name, value[kept])
        self.monitor.keep(kept)
        self.orders = {s: o for s, o in self.orders.items() if s in set(self.seeds[self.alive])}

    def evaluate(self, step: int) -> None:
        metrics = self.task.evaluate()
        if not metrics:
            return
        for m, member in enumerate(self.alive):
            values = {name: float(value[m]) for name, value in metrics.items()}
            self.evals[member].append({"step": step, **values})

    def result(self, member: int, m: int, divergence, keep: bool) -> Result:
        """Member `member` (row m of the arrays) as `train` would have returned it. Its curves
        are its rows of the population's records (views, as each member has a row of its own)."""
        steps_run = self.steps_run[member]
        train_loss = self.curves.losses[member, :steps_run]
        evals = self.evals[member]
        finals = {FINAL_TRAIN_LOSS: float(train_loss[-1])} if steps_run else {}
        if evals and divergence is None:
            finals.update({final(k): v for k, v in evals[-1].items() if k != "step"})
        trajectory = None
        if self.is_2d:  # the start, then the point after each step that did not diverge
            points = steps_run + 1 if divergence is None else divergence.step + 1
            trajectory = self.curves.trajectory[member, :points]
        checkpoint = None
        if keep:
            checkpoint = self.checkpoint(member, m, train_loss, evals, trajectory)
        return Result(
            config=self.configs[member],
            outcome=CONVERGED if divergence is None else DIVERGED,
            train_loss=train_loss,
            evals=evals,
            final=finals,
            divergence=divergence,
            trajectory=trajectory,
            checkpoint=checkpoint,
        )

    def checkpoint(self, member, m, train_loss, evals, trajectory) -> Checkpoint:
        """Member m's Checkpoint, as a run trained alone would keep it."""
        optimizer = self.optimizer
        hyperparameters = {
            name: float(value[m, 0]) if isinstance(value, np.ndarray) else value
            for name, value in optimizer.hyperparameters.items()
        }
        state = [
            {name: own_row(value, m, tensor.data.shape[1:]) for name, value in param_state.items()}
            for tensor, param_state in zip(self.tensors, optimizer.state, strict=True)
        ]
        last = self.monitor.last_finite_loss[m]
        return Checkpoint(
            int(self.steps_run[member]),
            [tensor.data[m].copy() for tensor in self.tensors],
            {
                "optimizer": type(optimizer).__name__,
                "hyperparameters": hyperparameters,
                "state": state,
            },
            float(self.monitor.threshold[m]),
            None if np.isnan(last) else float(last),
            train_loss,
            list(evals),
            list(trajectory) if trajectory is not None else None,
        )


def differing_hyperparameters(configs: list[dict]) -> dict[str, np.ndarray]:
    """The hyperparameters the members do not share, each as an array of shape (P, 1). A value
    they share stays the number the optimizer was built with: the very arithmetic of one run."""
    first = configs[0]["optimizer"]
    differing = {}
    for key, value in first.items():
        values = [c["optimizer"][key] for c in configs]
        if is_hyperparameter(key) and any(v != value for v in values):
            differing[key] = np.array(values, dtype=float)[:, None]
    return differing
