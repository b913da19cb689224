"""The sweep's Backend in MLflow: its parent run and children, resumed by sweep_id; one writer."""

import dataclasses
import logging
import os
import tempfile
import time
from pathlib import Path

import numpy as np
from mlflow.entities import Metric, RunTag
from mlflow.exceptions import MlflowException

from trainer import contract
from trainer.config.redact import mask_uri
from trainer.sweep.context import SweepContext
from trainer.sweep.record import parent
from trainer.sweep.record.children import child_runs, searched
from trainer.sweep.record.lease import Lease, LeaseHeld
from trainer.sweep.record.retry import (
    ABORT_RETRY_SECONDS,
    MLFLOW_HTTP,
    cause,
    is_transient,
    retrying,
    store_errors,
)
from trainer.sweep.record.rows import Row
from trainer.sweep.record.store import Backend, ParentSummary, StoreDown
from trainer.tracking.curve import from_npz
from trainer.tracking.provenance import code_fingerprint, provenance_tags
from trainer.tracking.run_record import log_files, log_result, open_store, result_tags
from trainer.training.result import FAILED, Result

# These log a busy store's every retry with a traceback; the sweep says it in one line instead.
QUIET_LOGGERS = ("mlflow.store.db.utils", "urllib3.connectionpool", "mlflow.utils.rest_utils")


class MlflowBackend(Backend):
    """The parent run and its children in MLflow; the only writer to the tracking store.

    Opening it takes the sweep's lease (LeaseHeld if another driver has it); `resume` then
    sorts the children earlier invocations left, which only the lease holder may do.
    """

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
        self._runs: dict[str, str] = {}  # trial_id -> run id, of the finished
        self.attempted: set[str] = set()
        # What the current code would record on each trial's run: the resume compares it.
        self.child_tags = {t.trial_id: provenance_tags([t.config]) for t in grid.trials}

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
        """Under the lease: the parent RUNNING with this code's provenance; earlier children
        sorted into finished by this code (kept), by other code (tagged superseded), and cut
        short or failed (deleted, to be redone). The finished trials' rows by trial id, and how
        many were superseded."""
        tags = parent.origin_tags(self.grid)
        self._patiently(lambda _: self._start_parent(tags))
        self._patiently(lambda _: self._sort_children())
        return self.finished, self.superseded

    def _start_parent(self, tags: dict[str, str]) -> None:
        self.client.log_batch(self.parent_id, tags=[RunTag(k, v) for k, v in tags.items()])
        self.client.update_run(self.parent_id, status="RUNNING")

    def _sort_children(self) -> None:
        self.finished, self.superseded, self._runs = {}, 0, {}
        for run in self._children():
            tags = run.data.tags
            if tags.get(contract.SUPERSEDED) == "true":
                continue
            trial_id = tags.get(contract.TRIAL_ID)
            current = self._current_fingerprint(trial_id, run.data.params)
            if run.info.status != "FINISHED" or trial_id in self.finished:
                # Cut short by a crash, a kill or a lost server, or failed: it will be redone.
                self.client.delete_run(run.info.run_id)
            elif tags.get(contract.CODE_FINGERPRINT) == current:
                self.finished[trial_id] = Row.from_run(run, np.empty(0))
                self._runs[trial_id] = run.info.run_id
            else:
                superseded = [
                    RunTag(contract.SUPERSEDED, "true"),
                    RunTag(contract.SUPERSEDED_BY, current),
                ]
                self.client.log_batch(run.info.run_id, tags=superseded)
                self.superseded += 1

    def _current_fingerprint(self, trial_id: str, params: dict[str, str]) -> str:
        """What the current code would tag this trial with: known for a grid's trials; for a
        trial outside the grid (a boundary search's probe), from the targets its params name."""
        if trial_id in self.child_tags:
            return self.child_tags[trial_id][contract.CODE_FINGERPRINT]
        targets = {key: {"_target_": v} for key, v in params.items() if key.endswith("_target_")}
        return code_fingerprint([targets])

    def _children(self, where: str = "") -> list:
        """The parent's active children (all of them in bulk; `where` narrows a search)."""
        if not where:
            return child_runs(self.client, self.experiment_id, self.parent_id)
        parent_is = f"tags.`{contract.PARENT_RUN_ID}` = '{self.parent_id}'"
        return searched(self.client, self.experiment_id, parent_is + where)

    def _remove_partial(self, trial_id: str) -> None:
        """Delete what an interrupted attempt left of this trial's run (not superseded ones)."""
        for run in self._children(f" and tags.{contract.TRIAL_ID} = '{trial_id}'"):
            if run.data.tags.get(contract.SUPERSEDED) != "true":
                self.client.delete_run(run.info.run_id)

    def _log(self, result: Result, name: str, tags: dict[str, str]) -> None:
        self.lease.check()  # inside the retries: it may read the store
        if result.trial_id in self.attempted:
            self._remove_partial(result.trial_id)
        self.attempted.add(result.trial_id)
        log_result(self.client, self.experiment_id, result, name, tags)

    def write(
        self,
        result: Result,
        name: str,
        extra_tags: dict[str, str] | None = None,
        patient: bool = True,
    ) -> None:
        """Log one trial as a child run (with `extra_tags`), retrying a busy store for
        `retry_seconds` (one try if not `patient`); StoreDown if it stays unreachable. A result
        MLflow refuses becomes a FAILED child with the reason. LeaseLost, writing nothing, once
        another driver took the sweep over."""
        started = time.perf_counter()
        tags = {
            contract.PARENT_RUN_ID: self.parent_id,
            **self.child_tags.get(result.trial_id, provenance_tags([result.config])),
            **(extra_tags or {}),
        }
        try:
            retrying(lambda _: self._log(result, name, tags), self.retry_seconds if patient else 0)
        except store_errors() as error:
            if is_transient(error):
                raise StoreDown(cause(error, self.uri)) from None
            reason = mask_uri(str(error).strip().splitlines()[0] if str(error).strip() else "")
            self._patiently(lambda _: self._log_refused(result, name, tags, reason))
        finally:
            self.logging_seconds += time.perf_counter() - started

    def _log_refused(self, result: Result, name: str, tags: dict, reason: str) -> None:
        """The trial as a FAILED child saying why MLflow refused its record."""
        # A write cut short by a takeover is refused too (the new holder deleted its run): the
        # lease read back, rarely, never records a trial of a sweep this driver lost.
        self.lease.confirm()
        self._remove_partial(result.trial_id)
        tags = {
            **result_tags(result),
            **tags,
            contract.OUTCOME: FAILED,
            contract.FAILURE_REASON: f"MLflow refused the result: {reason}"[:5000],
        }
        run = self.client.create_run(self.experiment_id, run_name=name, tags=tags)
        self.client.set_terminated(run.info.run_id, "FAILED")

    def write_many(
        self, results: list[Result], names: list[str], tags: list[dict[str, str]]
    ) -> tuple[int, str | None]:
        """`write` each in order until one cannot be: how many were written, and why not."""
        for written, (result, name, extra) in enumerate(zip(results, names, tags, strict=True)):
            try:
                self.write(result, name, extra, True)
            except StoreDown as error:
                return written, str(error)
        return len(results), None

    def progress(self) -> tuple[float, str]:
        """Seconds spent logging so far, and the parent run's id."""
        return self.logging_seconds, self.parent_id

    def experiment(self) -> str:
        """The experiment's id: with the parent run's, what the dashboard's link opens."""
        return self.experiment_id

    def abort(self, status: str, reason: str) -> None:
        """End the parent `status` (FAILED or KILLED) saying why; no child left RUNNING."""
        reason = mask_uri(reason)[:5000]

        def end(_):
            if not self.lease.holds():
                return  # another driver's sweep now: its parent is not this driver's to end
            self._delete_running_children()
            self.client.set_tag(self.parent_id, contract.FAILURE_REASON, reason)
            self.client.set_terminated(self.parent_id, status)

        self.ended = True  # tried once: a store that is away is not tried again at close
        self._patiently(end, ABORT_RETRY_SECONDS)

    def _delete_running_children(self) -> None:
        for run in self._children(" and attributes.status = 'RUNNING'"):
            self.client.delete_run(run.info.run_id)

    def close(self) -> None:
        """Give the lease up; a sweep neither finished nor aborted (its driver went away) is
        marked FAILED first."""
        if not self.ended and self.lease.lost is None:
            try:
                self.abort("FAILED", "the sweep's driver ended before the sweep did")
            except StoreDown:
                pass  # the next run of the same command cleans up
        self.lease.release()

    def earlier_rows(self, read_curves: bool = True) -> list[Row]:
        """Trials finished by an earlier invocation, from the runs found at the start (their
        final metrics and tags); with `read_curves`, each one's every step read back too."""
        if not read_curves:
            return list(self.finished.values())
        return [
            dataclasses.replace(row, curve=self._curve(self._runs[trial_id]))
            for trial_id, row in self.finished.items()
        ]

    def _curve(self, run_id: str) -> np.ndarray:
        """Every step of a run's train_loss, from its train_loss.npz; the tracked points of a
        run logged before there was one."""
        with tempfile.TemporaryDirectory() as folder:
            try:
                path = self.client.download_artifacts(run_id, contract.TRAIN_LOSS_FILE, folder)
                return from_npz(Path(path).read_bytes())
            except (MlflowException, OSError):
                pass
        history = self.client.get_metric_history(run_id, contract.TRAIN_LOSS)
        return np.array([m.value for m in sorted(history, key=lambda m: m.step)])

    def finish(self, summary: ParentSummary, elapsed: float) -> None:
        """The parent's summary (with this invocation's wall and logging time), its description
        the command that reproduces the sweep, then its pictures; then FINISHED, no child left
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
            self._delete_running_children()
            self.client.log_batch(
                self.parent_id,
                metrics=[Metric(k, float(v), now, 0) for k, v in metrics.items()],
                tags=[RunTag(k, v) for k, v in tags.items()],
            )
            log_files(self.client, self.parent_id, summary.files)
            self.client.set_terminated(self.parent_id, "FINISHED")

        self._patiently(write)
        self.ended = True
