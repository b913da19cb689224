"""The `Search` interface: propose a batch of trials, be told their results, say what was found.

The loop that runs a sweep (run/loop.py) drives any search the same way, as Optuna's
ask-and-tell or Ray Tune's `Searcher.suggest` / `on_trial_complete` do:

    while batch := search.propose():
        for each proposal: tell the search its row, from an earlier run or trained now
        search.end_round()
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
    """One trial a search asks for: the trial, its child run's name and extra tags."""

    trial: Trial
    name: str
    tags: dict[str, str] = field(default_factory=dict, hash=False, compare=False)

    @property
    def trial_id(self) -> str:
        return self.trial.trial_id


class Search(ABC):
    """One way of choosing a sweep's trials. A subclass names itself (`sweep.search=<name>`),
    expands the command line into its Grid before anything starts, and then, built on the
    sweep's context, proposes and is told round after round."""

    name: ClassVar[str]

    def __init__(self, context: SweepContext):
        self.context = context

    @classmethod
    @abstractmethod
    def expand(cls, sweep_cfg: dict, trial_args: list[str], config_loader) -> Grid:
        """The checked trials (or points) the command line means for this search; ConfigError
        in one line for anything it cannot search."""

    @abstractmethod
    def propose(self) -> list[Proposal]:
        """The next batch of trials; empty once the search is done (or stopped by a cap)."""

    @abstractmethod
    def tell(self, proposal: Proposal, row: Row) -> None:
        """The result of one proposed trial: converged, diverged or failed."""

    def end_round(self, trained: int) -> str | None:
        """Every proposal of the batch was told (`trained` of them trained now, the rest read
        back): a line to print, or None."""
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
