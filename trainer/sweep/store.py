"""The sweep's MLflow side: the parent run and its children, resumed by sweep_id, one writer."""

import os
import time

import numpy as np
import requests
from mlflow.entities import Metric, RunTag
from mlflow.exceptions import MlflowException

from trainer.result import Result
from trainer.sweep.figures import heatmap_png, loss_curves_png
from trainer.sweep.grid import Grid
from trainer.sweep.ranking import Ranking
from trainer.sweep.spool import Spool, spool_path
from trainer.sweep.summary import Row, counts, results_csv, table
from trainer.tracking import log_files, log_result, open_store

STORE_ERRORS = (MlflowException, requests.exceptions.RequestException, OSError)
# Fail over to the spool within seconds, not MLflow's default minutes of retries.
HTTP_DEFAULTS = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "30",
}


class SweepStore:
    """The parent run and its children in MLflow; the only writer to the tracking store."""

    def __init__(self, uri: str, experiment: str, grid: Grid, sweep_name: str):
        for name, value in HTTP_DEFAULTS.items():
            os.environ.setdefault(name, value)
        self.uri, self.grid = uri, grid
        self.client, self.experiment_id = open_store(uri, experiment)
        self.parent_id = self._parent(sweep_name)
        self.spool = Spool(spool_path(uri, grid.sweep_id))
        self.down: Exception | None = None
        self.logging_seconds = 0.0
        self.finished = {}
        for run in self._children():
            trial_id = run.data.tags.get("trial_id")
            if run.info.status == "FINISHED" and trial_id not in self.finished:
                self.finished[trial_id] = run
            else:
                # Cut short by a crash, a kill or a lost server, or failed: it will be redone.
                self.client.delete_run(run.info.run_id)

    def _parent(self, sweep_name: str) -> str:
        found = self.client.search_runs(
            [self.experiment_id],
            filter_string=f"tags.sweep_id = '{self.grid.sweep_id}'",
            max_results=1,
        )
        if found:
            run_id = found[0].info.run_id
            self.client.update_run(run_id, status="RUNNING")
            return run_id
        run = self.client.create_run(
            self.experiment_id,
            run_name=f"sweep {sweep_name}",
            tags={"sweep_id": self.grid.sweep_id, "sweep.name": sweep_name},
        )
        params = {"sweep.name": sweep_name, "grid_size": str(len(self.grid.trials))}
        params.update({f"axis.{k}": ",".join(v) for k, v in self.grid.axes.items()})
        params.update({f"fixed.{k}": v for k, v in self.grid.fixed.items()})
        for key, value in params.items():
            self.client.log_param(run.info.run_id, key, value[:6000])
        return run.info.run_id

    def _children(self) -> list:
        runs, token = [], None
        while True:
            page = self.client.search_runs(
                [self.experiment_id],
                filter_string=f"tags.`mlflow.parentRunId` = '{self.parent_id}'",
                max_results=1000,
                page_token=token,
            )
            runs.extend(page)
            token = page.token
            if not token:
                return runs

    def log(self, result: Result, name: str) -> bool:
        """Log one trial as a child run, or keep it in the spool when the store is unreachable."""
        if self.down is None:
            started = time.perf_counter()
            try:
                log_result(
                    self.client,
                    self.experiment_id,
                    result,
                    name,
                    {"mlflow.parentRunId": self.parent_id},
                )
                return True
            except STORE_ERRORS as error:
                self.down = error
            finally:
                self.logging_seconds += time.perf_counter() - started
        self.spool.append(result)
        return False

    def replay_spool(self, names: dict[str, str]) -> tuple[list[Row], int]:
        """Log what an earlier invocation had to spool; the rows, and how many are still spooled."""
        rows, spooled = [], 0
        for result in self.spool.load():
            if result.trial_id in names and result.trial_id not in self.finished:
                spooled += not self.log(result, names[result.trial_id])
                rows.append(Row.from_result(result, names[result.trial_id]))
        if self.down is None:
            self.spool.clear()
        return rows, spooled

    def status(self) -> tuple[str | None, float, str]:
        """(why the store is unreachable or None, seconds spent logging, the parent run's id)."""
        return (None if self.down is None else str(self.down)), self.logging_seconds, self.parent_id

    def mark_killed(self) -> None:
        self.client.set_terminated(self.parent_id, "KILLED")

    def close(self) -> None:
        """Nothing to release in process; StoreProcess has the same method."""

    def earlier_rows(self) -> list[Row]:
        """Trials finished by an earlier invocation, with their curves read back."""
        rows = []
        for run in self.finished.values():
            history = self.client.get_metric_history(run.info.run_id, "train_loss")
            curve = np.array([m.value for m in sorted(history, key=lambda m: m.step)])
            rows.append(Row.from_run(run, curve))
        return rows

    def finish(self, rows: list[Row], elapsed: float, cpus: int, ranking: Ranking) -> None:
        """The parent's summary: counts, this invocation's wall and logging time, figures."""
        now = int(time.time() * 1000)
        metrics = {
            **counts(rows, ranking),
            "wall_time_s": elapsed,
            "logging_s": self.logging_seconds,
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
                "results.csv": results_csv(rows).encode(),
                "heatmap.png": heatmap_png(rows, self.grid.axes, configs, ranking),
                "loss_curves.png": loss_curves_png(rows, self.grid.axes),
                "summary.txt": table(rows, elapsed, cpus, ranking).encode(),
            },
        )
        self.client.set_terminated(self.parent_id, "FINISHED")
