"""The `Search` interface: propose a batch of trials, be told their results, say what was found.

The loop that runs a sweep (run/loop.py) drives any search the same way, as Optuna's
ask-and-tell or Ray Tune's `Searcher.suggest` / `on_trial_complete` do:

    until the search proposes nothing and nothing is in flight:
        proposals = search.propose(free CPUs)     # may be empty while it waits for results
        each is answered from an earlier run, or trained on Ray
        search.tell(proposal, row, trained) for each result, as it comes
    search.summarise(rows, elapsed)

The loop answers a proposal from the store when an earlier invocation finished its trial, so a
search that proposes the same trials for the same results retraces itself on a rerun and costs
nothing until it reaches new ground. A diverged trial is a result like any other (its row's
outcome says so); a failed one too.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from trainer.sweep.context import SweepContext
    from trainer.sweep.plan.grid import Grid, Trial
    from trainer.sweep.record.rows import Row
    from trainer.sweep.record.store import ParentSummary


@dataclass(frozen=True)
class Proposal:
    """One trial a search asks for: the trial, its child run's name and extra tags. A
    `provisional` trial is a rung of a longer one (successive halving): its result is told but
    kept back, to be recorded only once the search says the trial stopped (`stopped`), or
    trained on by a later proposal that `resume`s it (by the earlier rung's trial id)."""

    trial: Trial
    name: str
    tags: dict[str, str] = field(default_factory=dict, hash=False, compare=False)
    provisional: bool = False
    resume: str | None = None

    @property
    def trial_id(self) -> str:
        return self.trial.trial_id


class Search(ABC):
    """One way of choosing a sweep's trials. A subclass names itself (`sweep.search=<name>`),
    expands the command line into its Grid before anything starts, and then, built on the
    sweep's context, proposes and is told round after round."""

    name: ClassVar[str]
    samples_ranges: ClassVar[bool] = False  # whether it accepts interval() ranges
    takes_seeds: ClassVar[bool] = True  # whether each configuration may run with sweep.seeds
    budget: int | None = None  # how many trials it will propose, where it knows

    def __init__(self, context: SweepContext):
        self.context = context

    @classmethod
    @abstractmethod
    def expand(cls, sweep_cfg: dict, trial_args: list[str], config_loader) -> Grid:
        """The checked trials (or points) the command line means for this search; ConfigError
        in one line for anything it cannot search."""

    @abstractmethod
    def propose(self, free: int) -> list[Proposal]:
        """Trials to run now: at most `free` (the idle CPUs) where the search adapts to results,
        all it can where it does not; empty while it waits for results, and once it is done
        (or stopped by a cap)."""

    @abstractmethod
    def tell(self, proposal: Proposal, row: Row, trained: bool) -> None:
        """The result of one proposed trial (converged, diverged or failed); `trained` is False
        where it was read back from an earlier run."""

    def stopped(self) -> list[str]:
        """The provisional trials (by trial id) told so far that will train no further: the
        loop records them now. Searches without rungs have none."""
        return []

    def message(self) -> str | None:
        """A line to print now (a round finished, say), once; None when there is none."""
        return None

    def announce(self, done: int, todo: int) -> str:
        """The sweep's opening line, once the first batch is split into `done` (read back from
        earlier runs) and `todo` (to train)."""
        context = self.context
        return (
            f"sweep {context.name}: {len(context.grid.trials)} trials, {done} already done, "
            f"{todo} to run on {context.cpus} CPUs; tracking {context.tracking_label}"
        )

    @abstractmethod
    def progress(self) -> str:
        """How far it got, for the line an interrupt prints: "with 3 of 8 trials logged"."""

    def unfinished(self) -> str | None:
        """Why the search stopped before it was done (a cap on rounds), or None."""
        return None

    @abstractmethod
    def summarise(self, rows: list[Row], elapsed: float) -> tuple[str, ParentSummary]:
        """What it found: the text printed at the end, and the parent run's summary."""
