"""The sweep's MLflow side: the parent run and its children, resumed by sweep_id, one writer."""

import os
import time

import numpy as np
import requests
from mlflow.entities import Metric, RunTag
from mlflow.exceptions import MlflowException

from trainer import contract
from trainer.result import Result
from trainer.sweep.boundary_figure import boundary_png
from trainer.sweep.boundary_report import boundary_csv, parent_metrics
from trainer.sweep.figures import heatmap_png, loss_curves_png
from trainer.sweep.grid import Grid
from trainer.sweep.links import parent_note
from trainer.sweep.ranking import Ranking
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

    def write(self, result: Result, name: str, tags: dict[str, str] | None = None) -> None:
        """Log one trial as a child run; StoreDown if the store cannot be reached."""
        started = time.perf_counter()
        try:
            extra = {contract.PARENT_RUN_ID: self.parent_id, **(tags or {})}
            log_result(self.client, self.experiment_id, result, name, extra)
        except STORE_ERRORS as error:
            raise StoreDown(str(error)) from error
        finally:
            self.logging_seconds += time.perf_counter() - started

    def progress(self) -> tuple[float, str]:
        """Seconds spent logging so far, and the parent run's id."""
        return self.logging_seconds, self.parent_id

    def experiment(self) -> str:
        """The experiment's id: with the parent run's, what the dashboard's link opens."""
        return self.experiment_id

    def mark_killed(self) -> None:
        self.client.set_terminated(self.parent_id, "KILLED")

    def close(self) -> None:
        """Nothing to release in process; StoreProcess has the same method."""

    def outcomes(self) -> dict[str, str]:
        """trial_id -> outcome of every trial finished by an earlier invocation."""
        return {tid: run.data.tags.get("outcome", "") for tid, run in self.finished.items()}

    def earlier_rows(self) -> list[Row]:
        """Trials finished by an earlier invocation, with their curves read back."""
        rows = []
        for run in self.finished.values():
            history = self.client.get_metric_history(run.info.run_id, contract.TRAIN_LOSS)
            curve = np.array([m.value for m in sorted(history, key=lambda m: m.step)])
            rows.append(Row.from_run(run, curve))
        return rows

    def finish(self, rows: list[Row], elapsed: float, cpus: int, ranking: Ranking) -> None:
        """The parent's summary: counts, this invocation's wall and logging time, figures."""
        now = int(time.time() * 1000)
        metrics = {
            **counts(rows, ranking),
            contract.WALL_TIME_S: elapsed,
            contract.LOGGING_S: self.logging_seconds,
        }
        self.client.log_batch(
            self.parent_id,
            metrics=[Metric(k, float(v), now, 0) for k, v in metrics.items()],
            tags=[RunTag("sweep.metric", ranking.metric), RunTag("sweep.mode", ranking.mode)],
        )
        configs = {t.trial_id: t.config for t in self.grid.trials}
        log_files(
            self.client,
            self.parent_id,
            {
                contract.RESULTS_FILE: results_csv(rows).encode(),
                contract.HEATMAP_FILE: heatmap_png(rows, self.grid.axes, configs, ranking),
                contract.LOSS_CURVES_FILE: loss_curves_png(rows, self.grid.axes),
                contract.SUMMARY_FILE: table(rows, elapsed, cpus, ranking).encode(),
            },
        )
        # The run's description shows the pictures on the page the sweep's link opens.
        pictures = [contract.HEATMAP_FILE, contract.LOSS_CURVES_FILE]
        self.client.set_tag(self.parent_id, contract.NOTE, parent_note(self.parent_id, pictures))
        self.client.set_terminated(self.parent_id, "FINISHED")

    def finish_boundary(self, reports: list, summary: str, title: str, elapsed: float) -> None:
        """A boundary search's parent: lr* per point as metrics, boundary.png, boundary.csv."""
        now = int(time.time() * 1000)
        metrics = {**parent_metrics(reports), "wall_time_s": elapsed}
        metrics["logging_s"] = self.logging_seconds
        self.client.log_batch(
            self.parent_id, metrics=[Metric(k, float(v), now, 0) for k, v in metrics.items()]
        )
        files = {
            "boundary.csv": boundary_csv(reports).encode(),
            "boundary.png": boundary_png(reports, title),
            "summary.txt": summary.encode(),
        }
        log_files(self.client, self.parent_id, files)
        self.client.set_terminated(self.parent_id, "FINISHED")
