"""One trial, or a population of trials, from config to record: trained, identified, drawn."""

import time
import traceback
from dataclasses import replace

from trainer.training.checkpoint import Checkpoint
from trainer.training.loop import train_with_task
from trainer.training.population import train_population
from trainer.training.raster import render_run_plots
from trainer.training.result import Result


def run_trial(
    config: dict,
    trial_id: str,
    node: str = "",
    resume: Checkpoint | None = None,
    keep=False,
    draw=True,
) -> Result:
    """The Result a trial's MLflow run is written from, for a script run and a sweep alike;
    `resume` and `keep` as for `train` (a search that trains its trials on, in rungs); with
    `draw` false, no figures (nothing records a run of its own for the trial).

    An exception (a bug in a user's optimizer, say) becomes a FAILED Result with its traceback.
    """
    started = time.perf_counter()
    try:
        result, task = train_with_task(config, resume=resume, keep=keep)
    except Exception:
        elapsed = time.perf_counter() - started
        return Result.failed(config, traceback.format_exc(), trial_id, node, elapsed)
    plots = render_run_plots(result, task) if draw else {}
    return replace(result, trial_id=trial_id, node=node, plots=plots)


def run_population(
    configs: list[dict],
    trial_ids: list[str],
    node: str = "",
    resumes: list[Checkpoint] | None = None,
    keep=False,
    draw=True,
) -> list[Result]:
    """`run_trial` for trials of one `population_key`, trained as one program; each Result is
    its trial's alone, tagged with the population's size. Should the population raise, each
    trial runs alone, so an exception is its own trial's FAILED Result."""
    try:
        results, tasks = train_population(configs, resumes, keep)
    except Exception:
        resumes = resumes or [None] * len(configs)
        return [
            run_trial(c, t, node, r, keep, draw)
            for c, t, r in zip(configs, trial_ids, resumes, strict=True)
        ]
    return [
        replace(
            result,
            trial_id=trial_id,
            node=node,
            plots=render_run_plots(result, tasks[config["trainer"]["seed"]]) if draw else {},
        )
        for result, config, trial_id in zip(results, configs, trial_ids, strict=True)
    ]
