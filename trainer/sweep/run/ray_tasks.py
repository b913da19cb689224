"""Trials in Ray workers: several trials per Ray task, their Results handed back as they finish."""

import dataclasses
import json
import math
import traceback

import ray
from ray.exceptions import RayError

from trainer.sweep.plan.grid import Trial
from trainer.sweep.run.populations import population_chunks, populations
from trainer.training.result import Result

TASKS_PER_CPU = 4
# At most this many trials per Ray task: a lost node or a bad trial never costs more to redo.
MAX_TRIALS_PER_TASK = 64
# Workers warm up on the distinct tasks among the grid's first trials.
WARM_UP_SCAN, WARM_UP_TASKS = 256, 4


@ray.remote(num_cpus=1, max_retries=0)
def warm_up(tasks: list[tuple[dict, int]], shared: list) -> None:
    """Import what a trial needs and load each task's data (once per worker process; the data
    the driver `shared`, from Ray's object store), so that a worker's first trials start warm.
    Sent while the store opens: nothing trains or is recorded; a task that cannot be built
    fails in its trials, with their traceback."""
    try:
        import trainer.training.trial  # noqa: F401 (the engine, the optimizers, the figures)
        from trainer.sweep.run.task_data import hand_in
        from trainer.training.build import build_task

        hand_in(shared)
        for config, seed in tasks:
            task = build_task(config, seed=seed)
            if hasattr(task, "data"):
                task.data()
    except Exception:
        return


def warm_up_workers(trials: list[Trial], cpus: int, shared: list) -> list:
    """One warm_up per CPU for the first few distinct tasks of the grid, with the data the
    driver loaded (task_data); not waited for. Their references: hold them until Ray is
    stopped. Dropped earlier, a warm-up whose worker died (as Ray stops under it: a refused
    driver stops Ray at once) is printed by Ray as an "Unhandled error" line."""
    distinct = {}
    for trial in trials[:WARM_UP_SCAN]:
        task, seed = trial.config["task"], trial.config["trainer"]["seed"]
        distinct.setdefault(json.dumps([task, seed], sort_keys=True, default=str), (task, seed))
    tasks = list(distinct.values())[:WARM_UP_TASKS]
    return [warm_up.remote(tasks, shared) for _ in range(cpus)]


def train_trials(
    trials: list[Trial], vectorize: bool = False, draw: bool = True, shared: list = ()
) -> list[Result]:
    """What a Ray task of `run_trials` does, in a worker: a chunk of trials, each population
    among them (`vectorize`) as one program, the others in sequence; `draw`: each trial's
    figures; `shared`: the task data the driver loaded (task_data)."""
    # Imported here, in the worker: the driver never trains, and never pays for matplotlib.
    from autodiff.heap import keep_freed_memory
    from trainer.sweep.run.task_data import hand_in
    from trainer.training.trial import run_population, run_trial

    keep_freed_memory()  # the worker trains step after step: it reuses what a step freed
    hand_in(shared)

    node, address = ray.get_runtime_context().get_node_id(), ray.util.get_node_ip_address()
    results = []
    for group in populations(trials) if vectorize else [[t] for t in trials]:
        if len(group) == 1:
            (t,) = group
            results.append(run_trial(t.config, t.trial_id, node, t.resume, t.keep, draw))
            continue
        configs, ids = [t.config for t in group], [t.trial_id for t in group]
        resumes = [t.resume for t in group] if group[0].resume is not None else None
        results += run_population(configs, ids, node, resumes, group[0].keep, draw)
    # A 2-D trial's points are drawn into its trajectory.png here, and no record keeps them:
    # they stay behind rather than travel (a 20,000-step trial's are half its Result).
    return [dataclasses.replace(r, node_address=address, trajectory=None) for r in results]


@ray.remote(num_cpus=1, max_retries=3)
def run_trials(
    trials: list[Trial], vectorize: bool = False, draw: bool = True, shared: list = ()
) -> list[Result]:
    """One Ray task (`ray::run_trials` in a worker's process title): `train_trials`. If the
    worker dies, Ray runs it again."""
    return train_trials(trials, vectorize, draw, shared)


def chunks(trials: list[Trial], cpus: int, per_task: int | None) -> list[list[Trial]]:
    """About TASKS_PER_CPU tasks per CPU, so short trials are not dominated by per-task overhead,
    and never more than MAX_TRIALS_PER_TASK trials in one."""
    size = per_task or math.ceil(len(trials) / (cpus * TASKS_PER_CPU))
    size = min(max(1, size), MAX_TRIALS_PER_TASK)
    return [trials[i : i + size] for i in range(0, len(trials), size)]


class RayTrials:
    """Trials in flight on Ray: each submission's chunks at once; Ray runs as many as it has
    CPUs and queues the rest. With `vectorize`, a chunk is (a share of) one population; `draw`
    false: no per-trial figures (no trial gets a run of its own); `shared`: the task data the
    driver loaded, for every task."""

    def __init__(
        self,
        cpus: int,
        per_task: int | None = None,
        vectorize: bool = False,
        draw: bool = True,
        shared: list = (),
    ):
        self.cpus, self.per_task, self.vectorize, self.draw = cpus, per_task, vectorize, draw
        self.shared = list(shared)  # the task data the driver loaded (task_data)
        self.pending: dict = {}  # Ray's reference -> its chunk of trials

    def submit(self, trials: list[Trial]) -> None:
        if self.vectorize:
            cut = population_chunks(trials, self.cpus, self.per_task, alone=chunks)
        else:
            cut = chunks(trials, self.cpus, self.per_task)
        for chunk in cut:
            self.pending[run_trials.remote(chunk, self.vectorize, self.draw, self.shared)] = chunk

    def wait(self, poll: float = 0.25) -> list[Result]:
        """The Results of every chunk finished within `poll` s (empty while none finish): one
        wait for all the work in flight, not one task at a time."""
        if not self.pending:
            return []
        ready, _ = ray.wait(list(self.pending), num_returns=len(self.pending), timeout=poll)
        results = []
        for ref in ready:
            chunk = self.pending.pop(ref)
            try:
                results += ray.get(ref)
            except RayError:
                # Ray's retries are spent (or the node is gone for good): record, go on.
                error = traceback.format_exc()
                results += [Result.failed(t.config, error, t.trial_id) for t in chunk]
        return results

    def any_finished(self) -> bool:
        """Whether a chunk in flight has finished (its Results are waiting), without waiting."""
        if not self.pending:
            return False
        ready, _ = ray.wait(list(self.pending), num_returns=1, timeout=0)
        return bool(ready)

    def cancel(self) -> None:
        for ref in self.pending:
            ray.cancel(ref, force=True)
        self.pending.clear()
