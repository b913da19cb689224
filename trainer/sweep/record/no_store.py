"""The Store of a sweep with `tracking=none`: trials run, the table prints, nothing is recorded.

No MLflow, no store process, no spool.
"""

from pathlib import Path

from trainer.sweep.report.rows import Row
from trainer.training.result import Result


class NoSpool:
    """Nothing is ever spooled: there is no store to be down."""

    path = Path("/dev/null")

    def load(self) -> list[Result]:
        return []


class NoStore:
    """Takes every result and keeps none of it: nothing is done before, nothing to resume."""

    spool = NoSpool()
    finished: frozenset[str] = frozenset()
    superseded = 0  # no earlier runs, so none by other code

    def log(self, result: Result, name: str, tags: dict[str, str] | None = None) -> bool:
        return True

    def log_many(self, results: list[Result], names: list[str]) -> int:
        return 0

    def replay_spool(self, names: dict[str, str]) -> tuple[list[Row], int]:
        return [], 0

    def status(self) -> tuple[str | None, float, str | None]:
        return None, 0.0, None

    def abort(self, status: str, reason: str) -> None:
        """No parent run to end."""

    def drain(self, patient: bool = True) -> int:
        return 0

    def experiment(self) -> None:
        return None

    def earlier_rows(self, read_curves: bool = True) -> list[Row]:
        return []

    def finish(self, rows: list[Row], elapsed: float, cpus: int, ranking) -> None:
        """Nothing to write."""

    def close(self) -> None:
        """Nothing to release."""
