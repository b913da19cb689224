"""The two interfaces of the record: `Store`, what the sweep calls, and `Backend`, what writes.

A `Store` takes each trial's Result exactly once and says what earlier invocations finished.
Every store subclasses it, so a store lacking a method cannot be made (abc refuses it):
- `SpooledStore` (record/spooled_store.py): a `Backend` with the local spool as its fallback;
- `NoStore` (record/no_store.py): `tracking=none`, records nothing.

A `Backend` is the tracking store itself, behind the spool: an MLflow backend in this process
(record/mlflow/: a child run per trial, or with tracking.children=false the parent's trial
table), or `ProcessBackend` forwarding each of its methods to one in a child process
(record/store_process.py; the forwarding is derived from this class).
"""

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field

from trainer.sweep.record.rows import Row
from trainer.training.result import Result


class StoreDown(Exception):
    """The tracking store cannot take a write: its server is unreachable, or its process ended."""


class LeaseLost(Exception):
    """Another driver took the sweep's lease over (record/lease.py): this driver writes nothing
    more. Not a StoreDown: what it has not logged is not spooled, since the driver holding the
    lease trains it."""


@dataclass
class ParentSummary:
    """What a sweep's parent run ends with, as a search's report draws it: metrics, tags, files,
    and which of the files (images) its description shows."""

    metrics: dict[str, float] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)
    pictures: list[str] = field(default_factory=list)


class Store(ABC):
    """What the sweep calls on its record. After opening: `finished` holds the trials earlier
    invocations logged with the current code (trial_id -> Row, without curves), `superseded`
    how many they logged with other code, `spool` the local fallback file."""

    finished: Mapping[str, Row]
    superseded: int

    @property
    @abstractmethod
    def spool(self):
        """The sweep's spool (record/spool.py): results the store could not take yet."""

    @abstractmethod
    def log_many(
        self, results: list[Result], names: list[str], tags: list[dict[str, str]] | None = None
    ) -> int:
        """Log each result as a child run named `names[i]` with extra `tags[i]`, in one call to
        the store; how many went to the spool instead."""

    def log(self, result: Result, name: str, tags: dict[str, str] | None = None) -> bool:
        """Log one result; False if it went to the spool instead."""
        return self.log_many([result], [name], [tags or {}]) == 0

    @abstractmethod
    def drain(self, patient: bool = True) -> int:
        """Log what the spool holds for this sweep under its own names and tags, if the store
        answers; how many results stay in the spool."""

    @abstractmethod
    def status(self) -> tuple[str | None, float, str | None]:
        """(why the store is unreachable or None, seconds spent logging, the parent run's id)."""

    @abstractmethod
    def experiment(self) -> str | None:
        """The experiment's id: with the parent run's, what the dashboard's link opens."""

    @abstractmethod
    def abort(self, status: str, reason: str) -> None:
        """End the parent run `status` (FAILED, KILLED) with tag failure.reason; StoreDown if
        the store cannot be reached."""

    @abstractmethod
    def earlier_rows(self, read_curves: bool = True) -> list[Row]:
        """The trials of `finished` as rows; with `read_curves`, each one's every step too."""

    @abstractmethod
    def finish(self, summary: ParentSummary, elapsed: float) -> None:
        """Write the parent's summary and end it FINISHED (LeaseLost if the sweep was taken)."""

    @abstractmethod
    def close(self) -> None:
        """Release what the store holds (its lease, its process); it is not used afterwards."""


class Backend(ABC):
    """The tracking store behind a SpooledStore: it writes, or raises StoreDown (retrying a busy
    store inside, for the retry window) or LeaseLost; it never spools."""

    finished: Mapping[str, Row]
    superseded: int

    @abstractmethod
    def write(
        self, result: Result, name: str, tags: dict[str, str] | None = None, patient: bool = True
    ) -> None:
        """Log one trial as a child run; not `patient`, a single try. A result the store
        refuses becomes a FAILED child saying why."""

    @abstractmethod
    def write_many(
        self, results: list[Result], names: list[str], tags: list[dict[str, str]]
    ) -> tuple[int, str | None]:
        """`write` each in order until one cannot be: how many were written, and why not."""

    @abstractmethod
    def progress(self) -> tuple[float, str]:
        """Seconds spent logging so far, and the parent run's id."""

    @abstractmethod
    def experiment(self) -> str:
        """The experiment's id."""

    @abstractmethod
    def abort(self, status: str, reason: str) -> None:
        """As Store.abort."""

    @abstractmethod
    def earlier_rows(self, read_curves: bool = True) -> list[Row]:
        """As Store.earlier_rows."""

    @abstractmethod
    def finish(self, summary: ParentSummary, elapsed: float) -> None:
        """As Store.finish."""

    @abstractmethod
    def close(self) -> None:
        """Give the lease up; a sweep neither finished nor aborted is marked FAILED first."""
