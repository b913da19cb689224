"""The Store of a tracked sweep: a Backend that writes, and the local spool when it cannot."""

import sys
import time

from trainer.sweep.record.retry import PROBE_SECONDS
from trainer.sweep.record.rows import Row
from trainer.sweep.record.spool import Spool
from trainer.sweep.record.store import Backend, ParentSummary, Store, StoreDown
from trainer.training.result import Result


class SpooledStore(Store):
    """Every result goes to the backend; once a write raises StoreDown, results go to the local
    spool (each with its run's name and tags), every PROBE_SECONDS the next result tries the
    store once, and as soon as it answers the spool is drained back into it."""

    def __init__(self, backend: Backend, spool: Spool):
        self.backend, self._spool = backend, spool
        self.finished, self.superseded = backend.finished, backend.superseded
        self.down: StoreDown | None = None
        self.logged: set[str] = set()  # trial ids this invocation logged
        self._next_probe = 0.0

    @property
    def spool(self) -> Spool:
        return self._spool

    def log_many(
        self, results: list[Result], names: list[str], tags: list[dict[str, str]] | None = None
    ) -> int:
        tags = tags or [{} for _ in results]
        if self.down is not None and time.monotonic() >= self._next_probe:
            self.drain(patient=False)
        written = 0
        if self.down is None and results:
            try:
                written, down = self.backend.write_many(results, names, tags)
            except StoreDown as error:  # the store's process is gone
                down = str(error)
            self.logged.update(result.trial_id for result in results[:written])
            if down is not None:
                self._went_down(StoreDown(down))
        left = zip(results[written:], names[written:], tags[written:], strict=True)
        for result, name, extra in left:
            self._spool.append(result, name, extra)
        return len(results) - written

    def _went_down(self, error: StoreDown) -> None:
        if self.down is None:
            print(
                f"warning: {error}; results go to {self._spool.path} until it answers",
                file=sys.stderr,
            )
        self.down = error
        self._next_probe = time.monotonic() + PROBE_SECONDS

    def drain(self, patient: bool = True) -> int:
        """Not `patient`, the first write is a single try (a probe): a store still away fails it
        at once. A result spooled without a name (a boundary probe an earlier run spooled,
        logged when its round proposes it) stays in the spool."""
        entries = self._spool.entries()
        unlogged = [
            entry
            for entry in entries
            if entry.trial_id not in self.finished and entry.trial_id not in self.logged
        ]
        pending = [entry for entry in unlogged if entry.name]
        if pending:
            # The first one tries the store (once, if not patient); the rest go in one call.
            first, rest = pending[0], pending[1:]
            try:
                self.backend.write(first.result, first.name, first.tags, patient)
                self.logged.add(first.trial_id)
                done, down = (
                    self.backend.write_many(
                        [e.result for e in rest], [e.name for e in rest], [e.tags for e in rest]
                    )
                    if rest
                    else (0, None)
                )
            except StoreDown as error:
                self._went_down(error)
                return len(pending) - len(self.logged & {e.trial_id for e in pending})
            self.logged.update(entry.trial_id for entry in rest[:done])
            if down is not None:
                self._went_down(StoreDown(down))
                return len(rest) - done
            self.down = None
            print(f"the store answers: {len(pending)} spooled results logged", file=sys.stderr)
        self.down = None
        if entries:
            self._spool.clear(keep={e.trial_id for e in unlogged if not e.name})
        return 0

    def status(self) -> tuple[str | None, float, str | None]:
        try:
            logging_seconds, parent_id = self.backend.progress()
        except StoreDown as error:  # the store's process is gone, and what it knew with it
            self.down = self.down or error
            logging_seconds, parent_id = 0.0, None
        return (None if self.down is None else str(self.down)), logging_seconds, parent_id

    def experiment(self) -> str | None:
        return self.backend.experiment()

    def abort(self, status: str, reason: str) -> None:
        self.backend.abort(status, reason)

    def earlier_rows(self, read_curves: bool = True) -> list[Row]:
        return self.backend.earlier_rows(read_curves)

    def finish(self, summary: ParentSummary, elapsed: float) -> None:
        self.backend.finish(summary, elapsed)

    def close(self) -> None:
        self.backend.close()
