"""Every artifact of the lecture's run, by file name, drawn from the runs and the worked example."""

import io
import json

from PIL import Image

from trainer.lecture import figures
from trainer.lecture.graph_figure import graph_png
from trainer.lecture.notes import lecture_md
from trainer.lecture.runs import LEARNING_RATES, LectureRuns
from trainer.lecture.worked_example import WorkedExample

# The three pictures the README shows, copied to `lecture.docs_dir` when it is set.
README_PICTURES = ("worked_example.png", "learning_rates.png", "momentum.png")


def lecture_files(example: WorkedExample, runs: LectureRuns) -> dict[str, bytes]:
    return {
        "worked_example.png": graph_png(example),
        "worked_example.dot": example.dot().encode(),
        "local_global_gradient.png": graph_png(example, focus="z"),
        "sgd_zigzag.png": figures.zigzag_png(runs),
        "learning_rates.png": figures.learning_rates_png(runs),
        "learning_rates.json": learning_rates_json(runs).encode(),
        "momentum.png": figures.momentum_png(runs),
        "adaptive_paths.png": figures.adaptive_paths_png(runs),
        "adaptive_rates.png": figures.step_sizes_png(runs),
        "lecture.md": lecture_md(example, runs).encode(),
    }


def small_png(png: bytes) -> bytes:
    """The picture in 64 colours, a quarter of the bytes, for the README's copies in git."""
    buffer = io.BytesIO()
    Image.open(io.BytesIO(png)).convert("RGB").quantize(64).save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


def learning_rates_json(runs: LectureRuns) -> str:
    """The learning-rate panel's data: each curve's rate, outcome, divergence and config."""
    curves = []
    for label, fraction in LEARNING_RATES.items():
        key = f"lr/{label}"
        result = runs.results[key]
        event = result.divergence
        curves.append(
            {
                "label": label,
                "fraction_of_limit": fraction,
                "lr": result.config["optimizer"]["lr"],
                "outcome": result.outcome,
                "steps_run": result.steps_run,
                "divergence_step": None if event is None else event.step,
                "divergence_reason": None if event is None else event.reason,
                "config": runs.configs[key],
            }
        )
    return json.dumps({"stability_limit": runs.limit, "curves": curves}, indent=2)
