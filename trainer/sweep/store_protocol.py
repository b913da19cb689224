"""The `Store` the sweep driver writes to, and the one fallback for a store that cannot take it."""

from collections.abc import Collection
from typing import Protocol

from trainer.result import Result
from trainer.sweep.spool import Spool, spool_path
from trainer.sweep.summary import Row


class StoreDown(Exception):
    """The tracking store cannot take a write: its server is unreachable, or its process ended."""


class Store(Protocol):
    """What the driver calls on a sweep's tracking store: a `SweepStore` in this process, or a
    `StoreProcess` forwarding to one in a child process."""

    spool: Spool
    finished: Collection[str]  # the trial ids an earlier invocation logged

    def log(self, result: Result, name: str) -> bool:
        """Log one trial as a child run; False if it went to the spool instead."""

    def log_many(self, results: list[Result], names: list[str]) -> int:
        """`log` each result, in one call to the store; how many went to the spool."""

    def replay_spool(self, names: dict[str, str]) -> tuple[list[Row], int]:
        """Log what an earlier invocation had to spool; the rows, and how many are still spooled."""

    def status(self) -> tuple[str | None, float, str | None]:
        """(why the store is unreachable or None, seconds spent logging, the parent run's id)."""

    def mark_killed(self) -> None:
        """End the parent run as KILLED: the sweep was interrupted."""

    def earlier_rows(self, read_curves: bool = True) -> list[Row]:
        """Trials finished by an earlier invocation; with `read_curves`, their curves too."""

    def finish(self, rows: list[Row], elapsed: float, cpus: int) -> None:
        """Write the parent's summary (counts, times, figures) and end it FINISHED."""

    def close(self) -> None:
        """Release what the store holds; it is not used afterwards."""


class SpoolFallback:
    """`log`, `replay_spool` and `status` of a Store, with the spool as the fallback.

    Once a write raises StoreDown, that result and every later one go to the local spool, for
    the next run of the same command to log. A subclass provides `write(result, name)` (which
    raises StoreDown when the store cannot take it), `write_many(results, names)` (how many
    it wrote, and why it stopped short or None) and `progress()` (seconds spent logging,
    the parent run's id).
    """

    def __init__(self, uri: str, sweep_id: str):
        self.spool = Spool(spool_path(uri, sweep_id))
        self.down: StoreDown | None = None
        self.finished: Collection[str] = ()

    def log(self, result: Result, name: str) -> bool:
        if self.down is None:
            try:
                self.write(result, name)
                return True
            except StoreDown as error:
                self.down = error
        self.spool.append(result)
        return False

    def log_many(self, results: list[Result], names: list[str]) -> int:
        """`log` for each result, in one call to the store (one round trip to its process);
        how many went to the spool."""
        written = 0
        if self.down is None and results:
            try:
                written, down = self.write_many(results, names)
            except StoreDown as error:  # the store's process is gone
                down = str(error)
            if down is not None:
                self.down = StoreDown(down)
        for result in results[written:]:
            self.spool.append(result)
        return len(results) - written

    def replay_spool(self, names: dict[str, str]) -> tuple[list[Row], int]:
        rows, spooled = [], 0
        for result in self.spool.load():
            if result.trial_id in names and result.trial_id not in self.finished:
                spooled += not self.log(result, names[result.trial_id])
                rows.append(Row.from_result(result, names[result.trial_id]))
        if self.down is None:
            self.spool.clear()
        return rows, spooled

    def status(self) -> tuple[str | None, float, str | None]:
        try:
            logging_seconds, parent_id = self.progress()
        except StoreDown as error:  # the store's process is gone, and what it knew with it
            self.down = self.down or error
            logging_seconds, parent_id = 0.0, None
        return (None if self.down is None else str(self.down)), logging_seconds, parent_id
