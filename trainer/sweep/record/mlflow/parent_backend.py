"""What both MLflow Backends share: the sweep's parent run, found or made, under its lease."""

import logging
import os
import sys
import time
from abc import abstractmethod
from collections.abc import Iterator, Mapping

from mlflow.entities import Metric, RunTag

from trainer import contract
from trainer.config.redact import mask_uri
from trainer.sweep.context import SweepContext
from trainer.sweep.record.lease import Lease, LeaseHeld
from trainer.sweep.record.mlflow import parent
from trainer.sweep.record.retry import (
    ABORT_RETRY_SECONDS,
    MLFLOW_HTTP,
    cause,
    retrying,
    store_errors,
)
from trainer.sweep.record.rows import Row
from trainer.sweep.record.store import Backend, ParentSummary, StoreDown
from trainer.tracking.provenance import code_fingerprint, provenance_tags
from trainer.tracking.run_record import log_files, open_store

# These log a busy store's every retry with a traceback; the sweep says it in one line instead.
QUIET_LOGGERS = ("mlflow.store.db.utils", "urllib3.connectionpool", "mlflow.utils.rest_utils")


class FormMismatch(Exception):
    """The sweep's parent holds its trials in the other form (tracking.children): one line."""


class ParentRunBackend(Backend):
    """The sweep's parent run in MLflow, and the only writer to it; a subclass records the
    trials (`CHILD_RUNS` or `TABLE`, the parent's tag contract.RECORD_FORM).

    Opening it takes the sweep's lease (LeaseHeld if another driver has it); `resume` then
    sorts what earlier invocations left, which only the lease holder may do.
    """

    form: str

    def __init__(self, context: SweepContext, driver_pid: int | None = None):
        uri, grid, sweep_name = context.uri, context.grid, context.name
        experiment = context.tracking["experiment"]
        for name, value in MLFLOW_HTTP.items():
            os.environ.setdefault(name, value)
        for name in QUIET_LOGGERS:
            logging.getLogger(name).setLevel(logging.CRITICAL)
        self.uri, self.grid = uri, grid
        self.retry_seconds = context.tracking.get("retry_seconds", 60.0)
        self.logging_seconds = 0.0
        self.finished: dict[str, Row] = {}  # trial_id -> row, of earlier invocations
        self.superseded, self.ended = 0, False
        # What the current code would record on each trial: the resume compares it.
        self.child_tags = trial_provenance(grid.trials)

        def open_parent(_):
            self.client, self.experiment_id = open_store(uri, experiment)
            return parent.find_or_create(self.client, self.experiment_id, grid, sweep_name)

        self.parent_id = self._patiently(open_parent)
        self.lease = Lease(self.client, self.parent_id, driver_pid or os.getpid())
        try:
            self._patiently(lambda _: self.lease.acquire())
        except LeaseHeld as held:
            where = f"sweep {sweep_name!r} ({grid.sweep_id}) in {mask_uri(uri)}"
            raise LeaseHeld(f"{where}: {held}") from None

    def _patiently(self, call, seconds: float | None = None):
        """`call` retried through transient errors; StoreDown with the cause once they last."""
        try:
            return retrying(call, self.retry_seconds if seconds is None else seconds)
        except store_errors() as error:
            raise StoreDown(cause(error, self.uri)) from None

    def resume(self) -> tuple[dict[str, Row], int]:
        """Under the lease: the parent RUNNING with this code's provenance and its form; what
        earlier invocations recorded sorted (`_sort`). The finished trials' rows by trial id,
        and how many were superseded. FormMismatch if the parent holds the other form."""
        self._patiently(lambda _: self._check_form())
        tags = {**parent.origin_tags(self.grid), contract.RECORD_FORM: self.form}
        self._patiently(lambda _: self._start_parent(tags))
        self._patiently(lambda _: self._sort())
        return self.finished, self.superseded

    def _check_form(self) -> None:
        recorded = self.client.get_run(self.parent_id).data.tags.get(contract.RECORD_FORM)
        if recorded is None and self.form == contract.TABLE:
            recorded = contract.CHILD_RUNS if self._has_children() else None
        if recorded not in (None, self.form):
            children = "true" if recorded == contract.CHILD_RUNS else "false"
            raise FormMismatch(
                f"this sweep's parent run {self.parent_id} holds its trials as "
                f"{recorded.replace('_', ' ')}: run it with tracking.children={children}, "
                f"or in another experiment (tracking.experiment=...)"
            )

    def _has_children(self) -> bool:
        return False

    @abstractmethod
    def _sort(self) -> None:
        """Set `finished` and `superseded` from what earlier invocations recorded."""

    def _start_parent(self, tags: dict[str, str]) -> None:
        self.client.log_batch(self.parent_id, tags=[RunTag(k, v) for k, v in tags.items()])
        self.client.update_run(self.parent_id, status="RUNNING")

    def _trial_provenance(self, result) -> dict[str, str]:
        """The provenance tags of a result's run: its grid trial's, or (a probe outside the
        grid) from its config."""
        known = self.child_tags.get(result.trial_id)
        return known if known is not None else provenance_tags([result.config])

    def _current_fingerprint(self, trial_id: str, params: dict[str, str]) -> str:
        """What the current code would tag this trial with: known for a grid's trials; for a
        trial outside the grid (a boundary search's probe), from the targets its params name."""
        if trial_id in self.child_tags:
            return self.child_tags[trial_id][contract.CODE_FINGERPRINT]
        targets = {key: {"_target_": v} for key, v in params.items() if key.endswith("_target_")}
        return code_fingerprint([targets])

    def _tidy(self) -> None:
        """What a parent that ends leaves no trace of (the children form: RUNNING children)."""

    def progress(self) -> tuple[float, str]:
        """Seconds spent logging so far, and the parent run's id."""
        return self.logging_seconds, self.parent_id

    def experiment(self) -> str:
        """The experiment's id: with the parent run's, what the dashboard's link opens."""
        return self.experiment_id

    def abort(self, status: str, reason: str) -> None:
        """End the parent `status` (FAILED or KILLED) saying why; nothing left RUNNING."""
        reason = mask_uri(reason)[:5000]

        def end(_):
            if not self.lease.holds():
                return  # another driver's sweep now: its parent is not this driver's to end
            self._tidy()
            self.client.set_tag(self.parent_id, contract.FAILURE_REASON, reason)
            self.client.set_terminated(self.parent_id, status)

        self.ended = True  # tried once: a store that is away is not tried again at close
        self._patiently(end, ABORT_RETRY_SECONDS)

    def close(self) -> None:
        """Give the lease up; a sweep neither finished nor aborted (its driver went away) is
        marked FAILED first."""
        if not self.ended and self.lease.lost is None:
            try:
                self.abort("FAILED", "the sweep's driver ended before the sweep did")
            except StoreDown:
                pass  # the next run of the same command cleans up
        self.lease.release()

    def finish(self, summary: ParentSummary, elapsed: float) -> None:
        """The parent's summary (with this invocation's wall and logging time), its description
        the command that reproduces the sweep, then its pictures; then FINISHED, nothing left
        RUNNING. LeaseLost if another driver took the sweep over."""
        pictures = parent.note(self.parent_id, summary.pictures)
        tags = {**summary.tags, contract.NOTE: f"{parent.command_line()}\n\n{pictures}"}
        metrics = {
            **summary.metrics,
            contract.WALL_TIME_S: elapsed,
            contract.LOGGING_S: self.logging_seconds,
        }
        now = int(time.time() * 1000)

        def write(_):
            self.lease.confirm()
            self._tidy()
            self.client.log_batch(
                self.parent_id,
                metrics=[Metric(k, float(v), now, 0) for k, v in metrics.items()],
                tags=[RunTag(k, v) for k, v in tags.items()],
            )
            log_files(self.client, self.parent_id, summary.files)
            self.client.set_terminated(self.parent_id, "FINISHED")

        self._patiently(write)
        self.ended = True


def targets(node) -> Iterator[str]:
    """Every `_target_` string anywhere in a config."""
    if isinstance(node, Mapping):
        for key, value in node.items():
            if key == "_target_" and isinstance(value, str):
                yield value
            else:
                yield from targets(value)
    elif isinstance(node, list | tuple):
        for value in node:
            yield from targets(value)


def trial_provenance(trials) -> dict[str, dict[str, str]]:
    """Each trial's provenance tags by trial id, computed once for the trials whose configs
    name the same targets (the same code): a 10,000-trial grid names a few sets of targets, and
    each costs half a millisecond, seconds of the store process's CPU while Ray starts."""
    known: dict[tuple[str, ...], dict[str, str]] = {}
    tags = {}
    for trial in trials:
        named = tuple(sorted(set(targets(trial.config))))
        if named not in known:
            known[named] = provenance_tags([trial.config])
        tags[trial.trial_id] = known[named]
    return tags


def warn(line: str) -> None:
    print(f"warning: {line}", file=sys.stderr)
