"""The `Store` the sweep driver writes to, and the one fallback for a store that cannot take it."""

import sys
import time
from collections.abc import Collection
from typing import Protocol

from trainer.sweep.plan.grid import Grid
from trainer.sweep.record.spool import Spool
from trainer.sweep.report.rows import Row
from trainer.tracking.provenance import code_fingerprint
from trainer.training.result import Result

# While the store is unreachable, how often a result tries it once before going to the spool.
PROBE_SECONDS = 5.0


class StoreDown(Exception):
    """The tracking store cannot take a write: its server is unreachable, or its process ended."""


class LeaseLost(Exception):
    """Another driver took the sweep's lease over (record/lease.py): this driver writes nothing
    more. Not a StoreDown: what it has not logged is not spooled, since the driver
    holding the lease trains it."""


class Store(Protocol):
    """What the driver calls on a sweep's tracking store: a `SweepStore` in this process, or a
    `StoreProcess` forwarding to one in a child process."""

    spool: Spool
    finished: Collection[str]  # the trial ids an earlier invocation logged with this code
    superseded: int  # how many trials an earlier invocation logged with other code

    def log(self, result: Result, name: str, tags: dict[str, str] | None = None) -> bool:
        """Log one trial as a child run (with extra tags); False if it went to the spool instead."""

    def log_many(self, results: list[Result], names: list[str]) -> int:
        """`log` each result, in one call to the store; how many went to the spool."""

    def replay_spool(self, names: dict[str, str]) -> tuple[list[Row], int]:
        """Log what an earlier invocation had to spool; the rows, and how many are still spooled."""

    def status(self) -> tuple[str | None, float, str | None]:
        """(why the store is unreachable or None, seconds spent logging, the parent run's id)."""

    def experiment(self) -> str:
        """The experiment's id: with the parent run's, what the dashboard's link opens."""

    def drain(self, patient: bool = True) -> int:
        """Log what the spool holds for this sweep, if the store answers; clear it once done.
        How many results stay in the spool."""

    def abort(self, status: str, reason: str) -> None:
        """End the parent run `status` (FAILED, KILLED) with tag failure.reason; StoreDown if
        the store cannot be reached."""

    def earlier_rows(self, read_curves: bool = True) -> list[Row]:
        """Trials finished by an earlier invocation; with `read_curves`, their curves too."""

    def finish(self, rows: list[Row], elapsed: float, cpus: int) -> None:
        """Write the parent's summary (counts, times, figures) and end it FINISHED."""

    def close(self) -> None:
        """Release what the store holds; it is not used afterwards."""


class SpoolFallback:
    """`log`, `replay_spool`, `drain` and `status` of a Store, with the spool as the fallback.

    A subclass provides `write(result, name, extra_tags, patient)` (which retries a busy store
    for the retry window, or tries once if not `patient`, and raises StoreDown when it stays
    unreachable), `write_many(results, names)` (how many it wrote, and why it stopped short
    or None) and `progress()` (seconds spent logging, the parent run's id). Once a write
    raises StoreDown, results go to the local spool; every PROBE_SECONDS the next result tries
    the store once, and as soon as it answers the spool is drained back into it.
    """

    def __init__(self, uri: str, grid: Grid):
        # Results spooled by other code than the current one are not replayed: trained again.
        code = code_fingerprint(trial.config for trial in grid.trials)
        self.spool = Spool.for_sweep(uri, grid.sweep_id, code)
        self.down: StoreDown | None = None
        self.finished: Collection[str] = ()
        self.names: dict[str, str] = {}
        self.logged: set[str] = set()  # trial ids this invocation logged
        self.spooled_tags: dict[str, dict[str, str]] = {}  # extra tags of what this run spooled
        self._next_probe = 0.0

    def log(self, result: Result, name: str, tags: dict[str, str] | None = None) -> bool:
        if self.down is not None and time.monotonic() >= self._next_probe:
            self.drain(patient=False)
        if self.down is None:
            try:
                self.write(result, name, tags)
                self.logged.add(result.trial_id)
                return True
            except StoreDown as error:
                self._went_down(error)
        self.spool.append(result)
        # The drain logs it under the same name and tags (a boundary probe's are its own).
        self.names[result.trial_id] = name
        if tags:
            self.spooled_tags[result.trial_id] = tags
        return False

    def log_many(self, results: list[Result], names: list[str]) -> int:
        """`log` for each result, in one call to the store (one round trip to its process);
        how many went to the spool."""
        if self.down is not None and time.monotonic() >= self._next_probe:
            self.drain(patient=False)
        written = 0
        if self.down is None and results:
            try:
                written, down = self.write_many(results, names)
            except StoreDown as error:  # the store's process is gone
                down = str(error)
            self.logged.update(result.trial_id for result in results[:written])
            if down is not None:
                self._went_down(StoreDown(down))
        for result, name in zip(results[written:], names[written:], strict=True):
            self.spool.append(result)
            self.names[result.trial_id] = name
        return len(results) - written

    def _went_down(self, error: StoreDown) -> None:
        if self.down is None:
            print(
                f"warning: {error}; results go to {self.spool.path} until it answers",
                file=sys.stderr,
            )
        self.down = error
        self._next_probe = time.monotonic() + PROBE_SECONDS

    def replay_spool(self, names: dict[str, str]) -> tuple[list[Row], int]:
        self.names.update(names)
        spooled = self.spool.load()
        rows = [
            Row.from_result(result, names[result.trial_id])
            for result in spooled
            if result.trial_id in names and result.trial_id not in self.finished
        ]
        return rows, self.drain(spooled=spooled)

    def drain(self, patient: bool = True, spooled: list[Result] | None = None) -> int:
        """Log what the spool holds for this sweep (`spooled`, if already read); clear it once
        all is logged. Not `patient`, the first write is a single try (a probe): a store still
        away fails it at once. How many results stay in the spool. A result without a name yet
        (a boundary probe an earlier run spooled, logged when its round comes) stays in it."""
        unlogged = [
            result
            for result in (self.spool.load() if spooled is None else spooled)
            if result.trial_id not in self.finished and result.trial_id not in self.logged
        ]
        pending = [result for result in unlogged if result.trial_id in self.names]
        for done, result in enumerate(pending):
            try:
                tags = self.spooled_tags.get(result.trial_id)
                self.write(result, self.names[result.trial_id], tags, patient)
            except StoreDown as error:
                self._went_down(error)
                return len(pending) - done
            self.logged.add(result.trial_id)
            self.down, patient = None, True
        if pending:
            print(f"the store answers: {len(pending)} spooled results logged", file=sys.stderr)
        self.down = None
        self.spool.clear(keep={r.trial_id for r in unlogged if r.trial_id not in self.names})
        return 0

    def status(self) -> tuple[str | None, float, str | None]:
        try:
            logging_seconds, parent_id = self.progress()
        except StoreDown as error:  # the store's process is gone, and what it knew with it
            self.down = self.down or error
            logging_seconds, parent_id = 0.0, None
        return (None if self.down is None else str(self.down)), logging_seconds, parent_id
