"""The sweep's MLflow side: the parent run and its children, resumed by sweep_id, one writer."""

import os
import tempfile
import time
from pathlib import Path

import numpy as np
import requests
from mlflow.entities import Metric
from mlflow.exceptions import MlflowException

from trainer import contract
from trainer.curve import from_npz
from trainer.result import Result
from trainer.sweep.figures import heatmap_png, loss_curves_png
from trainer.sweep.grid import Grid
from trainer.sweep.store_protocol import SpoolFallback, StoreDown
from trainer.sweep.summary import Row, counts, results_csv, table
from trainer.tracking import log_files, log_result, open_store

STORE_ERRORS = (MlflowException, requests.exceptions.RequestException, OSError)
# Fail over to the spool within seconds, not MLflow's default minutes of retries.
HTTP_DEFAULTS = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "30",
}


class SweepStore(SpoolFallback):
    """The parent run and its children in MLflow; the only writer to the tracking store."""

    def __init__(self, uri: str, experiment: str, grid: Grid, sweep_name: str):
        super().__init__(uri, grid.sweep_id)
        for name, value in HTTP_DEFAULTS.items():
            os.environ.setdefault(name, value)
        self.uri, self.grid = uri, grid
        self.client, self.experiment_id = open_store(uri, experiment)
        self.parent_id = self._parent(sweep_name)
        self.logging_seconds = 0.0
        self.finished = {}
        for run in self._children():
            trial_id = run.data.tags.get(contract.TRIAL_ID)
            if run.info.status == "FINISHED" and trial_id not in self.finished:
                self.finished[trial_id] = run
            else:
                # Cut short by a crash, a kill or a lost server, or failed: it will be redone.
                self.client.delete_run(run.info.run_id)

    def _parent(self, sweep_name: str) -> str:
        found = self.client.search_runs(
            [self.experiment_id],
            filter_string=f"tags.{contract.SWEEP_ID} = '{self.grid.sweep_id}'",
            max_results=1,
        )
        if found:
            run_id = found[0].info.run_id
            self.client.update_run(run_id, status="RUNNING")
            return run_id
        run = self.client.create_run(
            self.experiment_id,
            run_name=f"sweep {sweep_name}",
            tags={contract.SWEEP_ID: self.grid.sweep_id, contract.SWEEP_NAME: sweep_name},
        )
        params = {contract.SWEEP_NAME: sweep_name, contract.GRID_SIZE: str(len(self.grid.trials))}
        params.update({contract.AXIS + k: ",".join(v) for k, v in self.grid.axes.items()})
        params.update({contract.FIXED + k: v for k, v in self.grid.fixed.items()})
        for key, value in params.items():
            self.client.log_param(run.info.run_id, key, value[:6000])
        return run.info.run_id

    def _children(self) -> list:
        runs, token = [], None
        while True:
            page = self.client.search_runs(
                [self.experiment_id],
                filter_string=f"tags.`{contract.PARENT_RUN_ID}` = '{self.parent_id}'",
                max_results=1000,
                page_token=token,
            )
            runs.extend(page)
            token = page.token
            if not token:
                return runs

    def write(self, result: Result, name: str) -> None:
        """Log one trial as a child run; StoreDown if the store cannot be reached."""
        started = time.perf_counter()
        try:
            parent = {contract.PARENT_RUN_ID: self.parent_id}
            log_result(self.client, self.experiment_id, result, name, parent)
        except STORE_ERRORS as error:
            raise StoreDown(str(error)) from error
        finally:
            self.logging_seconds += time.perf_counter() - started

    def write_many(self, results: list[Result], names: list[str]) -> tuple[int, str | None]:
        """`write` each in order until one cannot be: how many were written, and why not."""
        for written, (result, name) in enumerate(zip(results, names, strict=True)):
            try:
                self.write(result, name)
            except StoreDown as error:
                return written, str(error)
        return len(results), None

    def progress(self) -> tuple[float, str]:
        """Seconds spent logging so far, and the parent run's id."""
        return self.logging_seconds, self.parent_id

    def mark_killed(self) -> None:
        self.client.set_terminated(self.parent_id, "KILLED")

    def close(self) -> None:
        """Nothing to release in process; StoreProcess has the same method."""

    def earlier_rows(self, read_curves: bool = True) -> list[Row]:
        """Trials finished by an earlier invocation, from the runs found at the start (their
        final metrics and tags); with `read_curves`, each one's every step read back too."""
        return [
            Row.from_run(run, self._curve(run.info.run_id) if read_curves else np.empty(0))
            for run in self.finished.values()
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

    def finish(self, rows: list[Row], elapsed: float, cpus: int) -> None:
        """The parent's summary: counts, this invocation's wall and logging time, figures."""
        now = int(time.time() * 1000)
        metrics = {
            **counts(rows),
            contract.WALL_TIME_S: elapsed,
            contract.LOGGING_S: self.logging_seconds,
        }
        self.client.log_batch(
            self.parent_id, metrics=[Metric(k, float(v), now, 0) for k, v in metrics.items()]
        )
        configs = {t.trial_id: t.config for t in self.grid.trials}
        files = {
            contract.RESULTS_FILE: results_csv(rows).encode(),
            contract.HEATMAP_FILE: heatmap_png(rows, self.grid.axes, configs),
            contract.SUMMARY_FILE: table(rows, elapsed, cpus).encode(),
        }
        # A rerun that ran nothing read no curves back: the figure logged before stays.
        if any(row.curve.size for row in rows):
            files[contract.LOSS_CURVES_FILE] = loss_curves_png(rows)
        log_files(self.client, self.parent_id, files)
        self.client.set_terminated(self.parent_id, "FINISHED")
