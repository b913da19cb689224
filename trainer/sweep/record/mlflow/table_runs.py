"""The table form of the sweep's record: the parent run alone, its trials a table of parts."""

import contextlib
import os
import re
import tempfile
import time
from pathlib import Path

import numpy as np

from trainer import contract
from trainer.sweep.record.children import Data, Info, child_runs
from trainer.sweep.record.mlflow.parent_backend import ParentRunBackend, warn
from trainer.sweep.record.mlflow.parts import TableTrial, TornPart, from_part, to_part
from trainer.sweep.record.retry import cause, retrying, store_errors
from trainer.sweep.record.rows import Row
from trainer.sweep.record.store import StoreDown
from trainer.tracking.curve import curve_steps
from trainer.tracking.naming import run_params
from trainer.tracking.run_record import result_tags
from trainer.training.result import FAILED, Result

PROGRESS_BAR = "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"
PART = re.compile(r"part-(\d{5,})-([0-9a-f]+)\.npz")


def part_name(number: int, writer: str) -> str:
    """A part's file: its number in the order written, and its writer (the lease's own id), so
    that two drivers' parts never share a name."""
    return f"part-{number:05d}-{writer}.npz"


def part_order(name: str) -> tuple[int, str] | None:
    found = PART.fullmatch(name)
    return (int(found[1]), found[2]) if found else None


@contextlib.contextmanager
def quiet_downloads():
    """No progress bar of MLflow's on stderr while the parts download (a line per part)."""
    saved = os.environ.get(PROGRESS_BAR)
    os.environ[PROGRESS_BAR] = "false"
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop(PROGRESS_BAR, None)
        else:
            os.environ[PROGRESS_BAR] = saved


def read_parts(client, run_id: str) -> tuple[list[TableTrial], int]:
    """Every whole part's trials, in the order written (a torn part is skipped with a warning),
    and the number of the last part there is (-1 for none)."""
    listed = client.list_artifacts(run_id, contract.TRIALS_FOLDER)
    names = sorted(
        (order, Path(f.path).name) for f in listed if (order := part_order(Path(f.path).name))
    )
    if not names:
        return [], -1
    trials: list[TableTrial] = []
    with tempfile.TemporaryDirectory() as folder, quiet_downloads():
        local = Path(client.download_artifacts(run_id, contract.TRIALS_FOLDER, folder))
        for _, name in names:
            try:
                trials += from_part((local / name).read_bytes(), run_id)
            except (TornPart, OSError) as error:
                warn(f"{contract.TRIALS_FOLDER}/{name} of run {run_id}: {error}; skipped")
    return trials, names[-1][0][0]


def current(trials: list[TableTrial]) -> dict[str, TableTrial]:
    """The trial each trial id last recorded, by trial id; none for one superseded since."""
    latest: dict[str, TableTrial] = {}
    for trial in trials:
        latest[trial.data.tags.get(contract.TRIAL_ID, "")] = trial
    return {k: t for k, t in latest.items() if t.data.tags.get(contract.SUPERSEDED) != "true"}


def table_trial(result: Result, name: str, tags: dict[str, str], parent_id: str) -> TableTrial:
    """A trial as its child run would record it: its result's tags and `tags`, its params, final
    metrics, the curve at the steps `trainer.log_every` keeps, a failed one's traceback."""
    metrics = dict(result.final)
    if result.outcome != FAILED:
        metrics[contract.DIVERGED_METRIC] = float(result.divergence is not None)
    event = result.divergence
    steps = curve_steps(result.config, result.steps_run, event.step if event else None)
    return TableTrial(
        Info(parent_id, name, "FAILED" if result.outcome == FAILED else "FINISHED"),
        Data({**result_tags(result), **tags}, run_params(result.config), metrics),
        steps,
        np.asarray(result.train_loss, dtype=np.float64)[steps],
        result.error or "",
    )


class TableBackend(ParentRunBackend):
    """tracking.children=false: the sweep is one parent run; each call that logs trials adds
    one part (record/mlflow/parts.py) under its artifact folder `trials/`, never rewriting one.

    Exactly once: the parts are read back when the sweep resumes, the last record of a trial
    counting; a part is written whole or, torn by a kill, skipped (its trials trained again),
    and a write retried after a timeout rewrites the same part. A trial by other code is
    superseded by a part of markers (tag superseded=true) and trained again."""

    form = contract.TABLE

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._trials: dict[str, TableTrial] = {}  # of the finished, by trial id
        self._next_part = 0
        self._writer = self.lease.owner.rsplit(":", 1)[-1]

    def _has_children(self) -> bool:
        return bool(child_runs(self.client, self.experiment_id, self.parent_id))

    def _sort(self) -> None:
        trials, last = read_parts(self.client, self.parent_id)
        self._next_part = last + 1
        self.finished, self.superseded, self._trials = {}, 0, {}
        markers = []
        for trial_id, trial in current(trials).items():
            fingerprint = self._current_fingerprint(trial_id, trial.data.params)
            if trial.info.status != "FINISHED":
                continue  # failed: trained again, its new record counting
            if trial.data.tags.get(contract.CODE_FINGERPRINT) == fingerprint:
                self.finished[trial_id] = Row.from_run(trial, np.empty(0))
                self._trials[trial_id] = trial
            else:
                self.superseded += 1
                tags = {
                    contract.TRIAL_ID: trial_id,
                    contract.SUPERSEDED: "true",
                    contract.SUPERSEDED_BY: fingerprint,
                }
                markers.append(TableTrial(Info("", trial.info.run_name, "FINISHED"), Data(tags)))
        if markers:
            self._upload(markers)

    def _trial(self, result: Result, name: str, extra: dict[str, str]) -> TableTrial:
        """The trial with the tags its child run would carry."""
        tags = {
            contract.PARENT_RUN_ID: self.parent_id,
            contract.RUN_NAME: name,
            **self._trial_provenance(result),
            **extra,
        }
        return table_trial(result, name, tags, self.parent_id)

    def _upload(self, trials: list[TableTrial], patient: bool = True) -> None:
        """One part, under the next number; retried, it is the same part written again."""
        name = part_name(self._next_part, self._writer)
        data = to_part(trials)

        def upload(_):
            self.lease.check()  # inside the retries: it may read the store
            with tempfile.TemporaryDirectory() as folder:
                path = Path(folder) / name
                path.write_bytes(data)
                self.client.log_artifact(self.parent_id, str(path), contract.TRIALS_FOLDER)

        started = time.perf_counter()
        try:
            retrying(upload, self.retry_seconds if patient else 0)
        except store_errors() as error:
            # Whatever the cause, a part not written is the store's outage: spooled, not lost.
            raise StoreDown(cause(error, self.uri)) from None
        finally:
            self.logging_seconds += time.perf_counter() - started
        self._next_part += 1

    def write(
        self, result: Result, name: str, tags: dict[str, str] | None = None, patient: bool = True
    ) -> None:
        """One trial as a part of its own; StoreDown if the store does not take it."""
        self._upload([self._trial(result, name, tags or {})], patient)

    def write_many(
        self, results: list[Result], names: list[str], tags: list[dict[str, str]]
    ) -> tuple[int, str | None]:
        """All of them as one part, or none: (how many were written, why not)."""
        trials = [self._trial(*each) for each in zip(results, names, tags, strict=True)]
        try:
            self._upload(trials)
        except StoreDown as error:
            return 0, str(error)
        return len(results), None

    def earlier_rows(self, read_curves: bool = True) -> list[Row]:
        """The trials finished by earlier invocations, as read from the parts at the start;
        with `read_curves`, each one's curve at its tracked steps (NaN between them)."""
        if not read_curves:
            return list(self.finished.values())
        return [Row.from_run(self._trials[t], self._trials[t].curve()) for t in self.finished]
