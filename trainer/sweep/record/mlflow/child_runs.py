"""The children form of the sweep's record: the parent run and a child run per trial."""

import dataclasses
import tempfile
import time
from pathlib import Path

import numpy as np
from mlflow.entities import RunTag
from mlflow.exceptions import MlflowException

from trainer import contract
from trainer.config.redact import mask_uri
from trainer.sweep.record.children import child_runs, searched
from trainer.sweep.record.mlflow.parent_backend import ParentRunBackend
from trainer.sweep.record.retry import cause, is_transient, retrying, store_errors
from trainer.sweep.record.rows import Row
from trainer.sweep.record.store import StoreDown
from trainer.tracking.curve import from_npz
from trainer.tracking.run_record import log_result, result_tags
from trainer.training.result import FAILED, Result


class ChildRunsBackend(ParentRunBackend):
    """tracking.children=true (the default): each trial a child run of the parent, with its
    params, metrics (the curve at `log_every`), tags and files (every step's loss as a file)."""

    form = contract.CHILD_RUNS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._runs: dict[str, str] = {}  # trial_id -> run id, of the finished
        self.attempted: set[str] = set()

    def _sort(self) -> None:
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
            **self._trial_provenance(result),
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

    def _tidy(self) -> None:
        self._delete_running_children()

    def _delete_running_children(self) -> None:
        for run in self._children(" and attributes.status = 'RUNNING'"):
            self.client.delete_run(run.info.run_id)

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
