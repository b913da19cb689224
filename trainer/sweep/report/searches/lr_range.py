"""The range test's report: each point's suggested learning rate, lr_range.png, the table."""

import math
from dataclasses import dataclass

import numpy as np
from matplotlib.figure import Figure

from trainer import contract
from trainer.plots import to_png
from trainer.sweep.plan.grid import Grid
from trainer.sweep.record.rows import Row
from trainer.sweep.record.store import ParentSummary
from trainer.sweep.report.searches.boundary_table import metric_key
from trainer.sweep.report.table import results_csv
from trainer.training.range_test import RANGE_TEST, learning_rates
from trainer.training.stability import theoretical_limit

SMOOTHING = 0.98  # as fastai's: an exponential moving average, bias-corrected


@dataclass
class RangeTest:
    """One point's test: its learning rates and losses, the smoothed loss's lowest point, the
    suggestion (a tenth of it) and, on the quadratic, the limit theory gives."""

    name: str
    lrs: np.ndarray
    losses: np.ndarray
    smoothed: np.ndarray
    lr_at_min: float | None
    suggested: float | None
    theory: float | None


def smooth(losses: np.ndarray, beta: float = SMOOTHING) -> np.ndarray:
    """avg_t = beta avg_{t-1} + (1 - beta) x_t, divided by 1 - beta^t (bias correction), of
    x = log(loss) where every loss is positive: a loss falling over decades is averaged on the
    scale it is drawn on, so the lowest point is not one of the last steps' by default."""
    positive = bool(losses.size) and losses.min() > 0
    values = np.log(losses) if positive else losses
    average, out = 0.0, np.empty_like(values)
    for t, value in enumerate(values, start=1):
        average = beta * average + (1 - beta) * value
        out[t - 1] = average / (1 - beta**t)
    return np.exp(out) if positive else out


def range_test(row: Row, config: dict) -> RangeTest:
    steps = config["trainer"]["steps"]
    lrs = learning_rates(config[RANGE_TEST], steps, row.curve.size)
    losses = np.asarray(row.curve, dtype=float)
    finite = np.isfinite(losses)
    smoothed = smooth(losses[finite]) if finite.any() else np.empty(0)
    lr_at_min = float(lrs[finite][int(np.argmin(smoothed))]) if smoothed.size else None
    suggested = lr_at_min / 10 if lr_at_min is not None else None
    return RangeTest(
        row.name, lrs, losses, smoothed, lr_at_min, suggested, theoretical_limit(config)
    )


def lr_range_summary(rows: list[Row], grid: Grid, elapsed: float, cpus: int, recorded=True):
    """The printed table and the parent's summary: lr_suggested/<point> (and the lr of the
    lowest loss) as metrics, lr_range.png, results.csv, summary.txt; not `recorded`
    (tracking=none), the table alone."""
    configs = {t.trial_id: t.config for t in grid.trials}
    tests = [range_test(r, configs[r.trial_id]) for r in rows if r.trial_id in configs]
    tests.sort(key=lambda test: test.name)
    text = table(tests, elapsed, cpus)
    if not recorded:
        return text, ParentSummary()
    metrics = {}
    for test in tests:
        if test.suggested is not None:
            metrics[metric_key("lr_suggested", test.name)] = test.suggested
            metrics[metric_key("lr_at_min_loss", test.name)] = test.lr_at_min
    files = {
        contract.LR_RANGE_FILE: to_png(figure(tests), tight=True),
        contract.RESULTS_FILE: results_csv(rows).encode(),
        contract.SUMMARY_FILE: text.encode(),
    }
    return text, ParentSummary(metrics=metrics, files=files, pictures=[contract.LR_RANGE_FILE])


def table(tests: list[RangeTest], elapsed: float, cpus: int) -> str:
    width = max([len(t.name) for t in tests] + [5])
    lines = [
        f"{len(tests)} range tests; wall time {elapsed:.1f} s on {cpus} CPUs",
        f"{'point':<{width}}  {'suggested':>10}  {'lowest at':>10}  {'theory':>10}",
    ]
    for t in tests:
        cells = [
            f"{v:>10.4g}" if v is not None else f"{'-':>10}"
            for v in (t.suggested, t.lr_at_min, t.theory)
        ]
        lines.append(f"{t.name:<{width}}  " + "  ".join(cells))
    return "\n".join(lines)


def figure(tests: list[RangeTest]) -> Figure:
    """Loss against learning rate (log axes), the smoothed loss, the suggestion and the lowest
    point marked; on the quadratic, theory's divergence limit."""
    columns = min(len(tests), 3) or 1
    lines = math.ceil(max(len(tests), 1) / columns)
    fig = Figure(figsize=(5.2 * columns, 3.8 * lines))
    for index, test in enumerate(tests, start=1):
        axes = fig.add_subplot(lines, columns, index)
        finite = np.isfinite(test.losses)
        axes.plot(
            test.lrs[finite], test.losses[finite], color="C0", alpha=0.35, lw=0.8, label="loss"
        )
        axes.plot(test.lrs[finite], test.smoothed, color="C0", lw=1.6, label="smoothed")
        if test.suggested is not None:
            axes.axvline(test.suggested, color="C2", lw=2, label=f"suggested {test.suggested:.3g}")
            axes.axvline(
                test.lr_at_min, color="C2", ls=":", lw=1, label=f"lowest {test.lr_at_min:.3g}"
            )
        if test.theory is not None:
            axes.axvline(
                test.theory,
                color="red",
                ls="--",
                lw=1.5,
                label=f"diverges at {test.theory:.3g} (theory)",
            )
        axes.set_xscale("log")
        if finite.any() and test.losses[finite].min() > 0:
            axes.set_yscale("log")
        axes.set_xlabel("learning rate")
        axes.set_ylabel("train_loss")
        axes.set_title(test.name, fontsize=10)
        axes.legend(fontsize=7)
        axes.grid(True, which="both", alpha=0.3)
    fig.suptitle("learning-rate range test: loss as the rate grows every step")
    return fig
