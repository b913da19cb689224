"""Write one training Result to MLflow as one run: params, chunked metrics, tags, artifacts."""

import math
import os
import tempfile
import time
from pathlib import Path

import yaml
from mlflow import MlflowClient
from mlflow.entities import Metric, Param

from trainer import contract
from trainer.config.uri import sqlite_path
from trainer.tracking.curve import curve_steps, to_npz
from trainer.tracking.naming import run_params
from trainer.tracking.new_store import seed
from trainer.training.result import FAILED, Result

# MLflow's log_batch takes at most 1000 metrics, 100 params and 100 tags, 1000 items in all.
METRICS_PER_CALL = 1000
PARAMS_PER_CALL = 100


def open_store(uri: str, experiment: str) -> tuple[MlflowClient, str]:
    """A client and the experiment's id, creating the experiment (artifacts beside a sqlite db)."""
    # Against a server MLflow prints "View run / View experiment" links at every run's end:
    # two lines per trial in a sweep's progress bar. The sweep prints its own link once.
    os.environ.setdefault("MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT", "true")
    seed(uri)  # a new sqlite store: a copy of an empty one, not MLflow's migrations again
    client = MlflowClient(tracking_uri=uri)
    found = client.get_experiment_by_name(experiment)
    if found is not None:
        return client, found.experiment_id
    path = sqlite_path(uri)
    location = (path.parent / "mlartifacts").as_uri() if path is not None else None
    kind = {contract.EXPERIMENT_KIND: contract.MODEL_TRAINING}
    return client, client.create_experiment(experiment, artifact_location=location, tags=kind)


def result_metrics(result: Result) -> list[Metric]:
    """train_loss at the steps `trainer.log_every` keeps (curve.curve_steps), validation at
    evaluations, final_* and diverged; every step is in the run's train_loss.npz.

    MLflow would store NaN as 0 and clamp infinities, drawing a false curve, so non-finite
    values are left out; the divergence tags carry them instead.
    """
    now = int(time.time() * 1000)
    event = result.divergence
    steps = curve_steps(result.config, result.steps_run, event.step if event else None)
    metrics = [
        Metric(contract.TRAIN_LOSS, value, now, step)
        for step, value in zip(steps.tolist(), result.train_loss[steps].tolist(), strict=True)
        if math.isfinite(value)
    ]
    for point in result.evals:
        for key, value in point.items():
            if key != "step" and math.isfinite(value):
                metrics.append(Metric(key, value, now, point["step"]))
    last = max(result.steps_run - 1, 0)
    for key, value in result.final.items():
        if math.isfinite(value):
            metrics.append(Metric(key, value, now, last))
    if result.outcome != FAILED:
        diverged = float(result.divergence is not None)
        metrics.append(Metric(contract.DIVERGED_METRIC, diverged, now, last))
    return metrics


def result_tags(result: Result) -> dict[str, str]:
    tags = {contract.OUTCOME: result.outcome, contract.WALL_TIME: f"{result.wall_time:.4f}"}
    if result.trial_id:
        tags[contract.TRIAL_ID] = result.trial_id
    if result.node:
        tags[contract.NODE] = result.node
    if result.node_address:
        tags[contract.NODE_ADDRESS] = result.node_address
    if result.population:
        tags[contract.POPULATION] = str(result.population)
    if result.divergence is not None:
        event = result.divergence
        tags.update(
            {
                contract.DIVERGENCE_STEP: str(event.step),
                contract.DIVERGENCE_REASON: event.reason,
                contract.DIVERGENCE_VALUE: repr(event.value),
                contract.DIVERGENCE_LAST_FINITE_LOSS: repr(event.last_finite_loss),
            }
        )
    return tags


def log_result(
    client: MlflowClient,
    experiment_id: str,
    result: Result,
    name: str,
    extra_tags: dict[str, str] | None = None,
) -> str:
    """Write `result` as one run and end it FINISHED (FAILED for a trial that raised)."""
    tags = {**result_tags(result), **(extra_tags or {})}
    run = client.create_run(experiment_id, run_name=name, tags=tags)
    run_id = run.info.run_id
    for params, metrics in batches(run_params(result.config), result_metrics(result)):
        client.log_batch(run_id, metrics=metrics, params=params)
    log_files(client, run_id, result_files(result))
    client.set_terminated(run_id, "FAILED" if result.outcome == FAILED else "FINISHED")
    return run_id


def batches(params: dict[str, str], metrics: list[Metric]):
    """(params, metrics) chunks within log_batch's limits: params ride along with the first
    metrics, so a short run takes a single call."""
    params = [Param(k, v) for k, v in params.items()]
    while params or metrics:
        some_params, params = params[:PARAMS_PER_CALL], params[PARAMS_PER_CALL:]
        room = METRICS_PER_CALL - len(some_params)
        some_metrics, metrics = metrics[:room], metrics[room:]
        yield some_params, some_metrics


def result_files(result: Result) -> dict[str, bytes]:
    """config.yaml, every step's loss (train_loss.npz), the plots the worker rendered, and a
    failed trial's traceback."""
    files = {contract.CONFIG_FILE: yaml.safe_dump(result.config, sort_keys=False).encode()}
    if result.steps_run:
        files[contract.TRAIN_LOSS_FILE] = to_npz(result.train_loss)
    files.update(result.plots)
    if result.error is not None:
        files[contract.TRACEBACK_FILE] = result.error.encode()
    return files


def log_files(client: MlflowClient, run_id: str, files: dict[str, bytes]) -> None:
    """Upload several in-memory files as a run's artifacts in one call."""
    with tempfile.TemporaryDirectory() as folder:
        for filename, data in files.items():
            (Path(folder) / filename).write_bytes(data)
        client.log_artifacts(run_id, folder)
