"""The Store of a sweep with `tracking=none`: trials run, the table prints, nothing is recorded.

No MLflow, no store process, no spool.
"""

from pathlib import Path

from trainer.sweep.record.rows import Row
from trainer.sweep.record.spool import Spooled
from trainer.sweep.record.store import ParentSummary, Store
from trainer.training.result import Result


class NoSpool:
    """Nothing is ever spooled: there is no store to be down."""

    path = Path("/dev/null")

    def load(self) -> list[Result]:
        return []

    def entries(self) -> list[Spooled]:
        return []

    def clear(self, keep=()) -> None:
        """Nothing to clear."""


class NoStore(Store):
    """Takes every result and keeps none of it: nothing is done before, nothing to resume."""

    finished: dict[str, Row] = {}
    superseded = 0  # no earlier runs, so none by other code

    @property
    def spool(self) -> NoSpool:
        return NoSpool()

    def log_many(self, results, names, tags=None) -> int:
        return 0

    def drain(self, patient: bool = True) -> int:
        return 0

    def status(self) -> tuple[str | None, float, str | None]:
        return None, 0.0, None

    def experiment(self) -> None:
        return None

    def abort(self, status: str, reason: str) -> None:
        """No parent run to end."""

    def earlier_rows(self, read_curves: bool = True) -> list[Row]:
        return []

    def finish(self, summary: ParentSummary, elapsed: float) -> None:
        """Nothing to write."""

    def close(self) -> None:
        """Nothing to release."""
