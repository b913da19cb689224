"""One trial from config to complete record: trained (or failed), identified, its figures drawn."""

import time
import traceback
from dataclasses import replace

from trainer.training.checkpoint import Checkpoint
from trainer.training.loop import train_with_task
from trainer.training.raster import render_run_plots
from trainer.training.result import Result


def run_trial(
    config: dict, trial_id: str, node: str = "", resume: Checkpoint | None = None, keep=False
) -> Result:
    """The Result a trial's MLflow run is written from, for a script run and a sweep alike;
    `resume` and `keep` as for `train` (a search that trains its trials on, in rungs).

    An exception (a bug in a user's optimizer, say) becomes a FAILED Result with its traceback.
    """
    started = time.perf_counter()
    try:
        result, task = train_with_task(config, resume=resume, keep=keep)
    except Exception:
        elapsed = time.perf_counter() - started
        return Result.failed(config, traceback.format_exc(), trial_id, node, elapsed)
    return replace(result, trial_id=trial_id, node=node, plots=render_run_plots(result, task))
