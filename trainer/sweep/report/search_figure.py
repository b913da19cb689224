"""search.png: the ranking metric against each searched parameter, and the best so far over trials.

As Optuna's slice plot and optimization history: one panel per searched key (a log axis where the
space is log), converged trials as dots, diverged ones as red crosses along the top, failed ones
as grey crosses along the bottom; the last panel, the best value after each trial in the order
the search proposed them.
"""

import math

import numpy as np
from matplotlib.figure import Figure

from trainer.plots import to_png
from trainer.sweep.plan.ranking import Ranking
from trainer.sweep.record.rows import Row
from trainer.sweep.report.searched import Searched
from trainer.training.result import CONVERGED, DIVERGED, FAILED

MAX_PANELS = 6  # searched keys shown; the history is one more


def search_png(rows: list[Row], searched: list[Searched], ranking: Ranking, order: dict) -> bytes:
    return to_png(search_figure(rows, searched, ranking, order), tight=True)


def search_figure(rows: list[Row], searched: list[Searched], ranking: Ranking, order: dict):
    """`order` maps trial_id to its place in the search's proposals (the history's x)."""
    shown = searched[:MAX_PANELS]
    panels = len(shown) + 1
    columns = min(panels, 3)
    lines = math.ceil(panels / columns)
    figure = Figure(figsize=(4.6 * columns, 3.6 * lines))
    metric = ranking.metric
    scored = [
        r for r in rows if r.outcome == CONVERGED and math.isfinite(r.final.get(metric, math.nan))
    ]
    values = [r.final[metric] for r in scored]
    log_metric = bool(values) and ranking.mode == "min" and min(values) > 0
    top, bottom = _limits(values, log_metric)
    for index, dimension in enumerate(shown, start=1):
        axes = figure.add_subplot(lines, columns, index)
        _slice(axes, rows, scored, dimension, metric, top, bottom)
        if log_metric:
            axes.set_yscale("log")
        axes.set_ylabel(metric if index % columns == 1 or columns == 1 else "")
    history = figure.add_subplot(lines, columns, panels)
    _history(history, scored, ranking, order, log_metric)
    diverged = sum(r.outcome == DIVERGED for r in rows)
    figure.suptitle(
        f"{metric} of {len(rows)} trials ({diverged} diverged: red x at the top; "
        f"{ranking.mode} is best)"
    )
    return figure


def _limits(values: list[float], log: bool) -> tuple[float, float]:
    """Where the markers of trials without a value sit: just above and below the values."""
    if not values:
        return 1.0, 0.0
    high, low = max(values), min(values)
    if log:
        return high * 2.0, low / 2.0
    span = (high - low) or 1.0
    return high + 0.1 * span, low - 0.1 * span


def _value_text(row: Row, key: str) -> str | None:
    """The row's value of `key` (a group's choice is its option's name), or None without it."""
    return row.params.get(key, row.params.get(f"{key}.name"))


def _slice(axes, rows, scored, dimension: Searched, metric: str, top: float, bottom: float):
    key = dimension.key
    categories = sorted({_value_text(r, key) for r in rows} - {None})

    def x(row: Row) -> float:
        text = _value_text(row, key)
        return float(categories.index(text)) if dimension.categorical else float(text)

    finished = [r for r in scored if _value_text(r, key) is not None]
    axes.scatter([x(r) for r in finished], [r.final[metric] for r in finished], s=18, color="C0")
    for outcome, height, colour in ((DIVERGED, top, "red"), (FAILED, bottom, "grey")):
        lost = [r for r in rows if r.outcome == outcome and _value_text(r, key) is not None]
        if lost:
            axes.scatter([x(r) for r in lost], [height] * len(lost), marker="x", color=colour, s=30)
    if dimension.categorical:
        axes.set_xticks(range(len(categories)), categories, rotation=30)
    elif dimension.log:
        axes.set_xscale("log")
    axes.set_xlabel(key)
    axes.grid(True, alpha=0.3)


def _history(axes, scored: list[Row], ranking: Ranking, order: dict, log: bool) -> None:
    ranked = sorted((order.get(r.trial_id, len(order)), r.final[ranking.metric]) for r in scored)
    if ranked:
        xs = np.array([i + 1 for i, _ in ranked])
        ys = np.array([value for _, value in ranked])
        best = np.minimum.accumulate(ys) if ranking.mode == "min" else np.maximum.accumulate(ys)
        axes.scatter(xs, ys, s=12, color="C0", alpha=0.5, label="trial")
        axes.step(xs, best, where="post", color="C1", lw=2, label="best so far")
        axes.legend(fontsize=8)
    if log:
        axes.set_yscale("log")
    axes.set_xlabel("trial, in the order proposed")
    axes.set_title("best so far", fontsize=10)
    axes.grid(True, alpha=0.3)
