"""Which trials train together: a sweep's trials grouped by population, cut into Ray tasks."""

import math
from collections.abc import Callable

from trainer.sweep.plan.grid import Trial
from trainer.training.population import population_key

# A Ray task trains at most this many members at once, and this many member-steps (the curves
# and a 2-D task's trajectories it holds: about 40 and 80 MB at the limit).
MAX_MEMBERS = 2048
MAX_MEMBER_STEPS = 5_000_000


def populations(trials: list[Trial]) -> list[list[Trial]]:
    """The trials in groups that train as one program (`population_key`), in the order of their
    first trial; a trial that trains alone is a group of one."""
    groups: dict = {}
    for trial in trials:
        key = population_key(trial.config, trial.resume)
        # Members keep their state to train on (a rung) all or none.
        groups.setdefault(trial.trial_id if key is None else (key, trial.keep), []).append(trial)
    return list(groups.values())


def population_chunks(
    trials: list[Trial], cpus: int, per_task: int | None, alone: Callable
) -> list[list[Trial]]:
    """Ray tasks for the trials: each population dealt out across the CPUs (so every core trains
    a share of it), within MAX_MEMBERS and MAX_MEMBER_STEPS a task; the trials that train alone
    are cut by `alone(trials, cpus, per_task)`, as without vectorisation."""
    tasks, singles = [], []
    for group in populations(trials):
        if len(group) == 1:
            singles += group
            continue
        steps = group[0].config["trainer"]["steps"]
        most = max(1, min(MAX_MEMBERS, MAX_MEMBER_STEPS // max(steps, 1)))
        size = per_task or math.ceil(len(group) / cpus)
        size = max(1, min(size, most))
        tasks += dealt(group, math.ceil(len(group) / size))
    return tasks + (alone(singles, cpus, per_task) if singles else [])


def dealt(group: list[Trial], count: int) -> list[list[Trial]]:
    """The trials dealt to `count` tasks back and forth (0 1 1 0 0 1 ...), not cut in runs: a
    grid's neighbours share a fate (its top learning rates all diverge within a few steps, and
    stop), and each task gets its share of the long and the short."""
    hands: list[list[Trial]] = [[] for _ in range(count)]
    for i, trial in enumerate(group):
        turn, seat = divmod(i, count)
        hands[seat if turn % 2 == 0 else count - 1 - seat].append(trial)
    return hands
