"""The lecture as one MLflow run named `lecture`: artifacts, learning rates, measurements."""

import time

from mlflow.entities import Metric

from trainer.lecture.runs import LectureRuns, steps_to
from trainer.tracking.run_record import batches, log_files, open_store

RUN_NAME = "lecture"


def log_lecture(uri: str, experiment: str, runs: LectureRuns, files: dict[str, bytes]) -> str:
    """Record the run; its id."""
    client, experiment_id = open_store(uri, experiment)
    run_id = client.create_run(experiment_id, run_name=RUN_NAME, tags=tags(runs)).info.run_id
    params = {"stability_limit": repr(runs.limit)}
    params.update(
        {f"{key}.lr": repr(r.config["optimizer"]["lr"]) for key, r in runs.results.items()}
    )
    for some_params, some_metrics in batches(params, measurements(runs)):
        client.log_batch(run_id, metrics=some_metrics, params=some_params)
    log_files(client, run_id, files)
    client.set_terminated(run_id, "FINISHED")
    return run_id


def measurements(runs: LectureRuns) -> list[Metric]:
    """steps_to_1e-6.<run> for every run that got there, divergence_step for the one that
    diverged."""
    now = int(time.time() * 1000)
    metrics = []
    for key, result in runs.results.items():
        step = steps_to(result)
        if step is not None:
            metrics.append(Metric(f"steps_to_1e-6.{key}", step, now, 0))
        if result.divergence is not None:
            metrics.append(Metric(f"divergence_step.{key}", result.divergence.step, now, 0))
    return metrics


def tags(runs: LectureRuns) -> dict[str, str]:
    diverged = {k: r.divergence for k, r in runs.results.items() if r.divergence is not None}
    found = {f"divergence.{key}.step": str(event.step) for key, event in diverged.items()}
    found.update({f"divergence.{key}.reason": event.reason for key, event in diverged.items()})
    return found
