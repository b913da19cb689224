"""The parent run's figures: the ranking metric over lr x momentum, and every loss curve."""

import math
from collections import defaultdict

import numpy as np
from matplotlib import colormaps
from matplotlib.colors import ListedColormap, LogNorm, Normalize
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from trainer.plots import to_png
from trainer.sweep.plan.ranking import Ranking
from trainer.sweep.record.rows import Row
from trainer.sweep.report.table import best
from trainer.training.build import build_task
from trainer.training.result import CONVERGED, DIVERGED

LR = "optimizer.lr"
SEED = "trainer.seed"
SECOND_AXES = (
    "optimizer.momentum",
    "optimizer.rho",
    "optimizer.rho1",
    "optimizer.rho2",
    "optimizer.delta",
    "trainer.batch_size",
)
HEAVY_BALL = ("sgd", "momentum")
# Past this many cells a panel's cells carry no text (it would not be legible) and its diverged
# cells are one translucent layer rather than a patch each; ticks thin out past TICKS.
LABELLED_CELLS = 400
TICKS = 12


def evenly(values, count: int) -> list:
    """At most `count` of `values`, evenly spaced, the first and last included: what a figure
    of a large sweep shows of an axis."""
    values = list(values)
    if len(values) <= count:
        return values
    return [values[round(i)] for i in np.linspace(0, len(values) - 1, count)]


def numeric_axes(axes: dict[str, list[str]]) -> list[str]:
    return [key for key, values in axes.items() if all(_is_number(v) for v in values)]


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def heatmap_axes(rows: list[Row], axes: dict[str, list[str]]) -> tuple[str | None, str | None]:
    """lr across, momentum (or the next numeric axis) down; the others are folded into cells.

    Only axes every row of the panel has count: sgd has no momentum in an optimizer sweep. Seeds
    are never an axis: a cell aggregates them.
    """
    numeric = [
        key for key in numeric_axes(axes) if key != SEED and all(key in row.params for row in rows)
    ]
    x = LR if LR in numeric else (numeric[0] if numeric else None)
    rest = [k for k in SECOND_AXES if k in numeric and k != x]
    rest += [k for k in numeric if k not in rest and k != x]
    y = rest[0] if rest else None
    return x, y


def grid_shape(panels: int) -> tuple[int, int]:
    """(rows, columns) of a near-square grid of panels: 4 -> 2 x 2, 6 -> 2 x 3."""
    columns = math.ceil(math.sqrt(panels))
    return math.ceil(panels / columns), columns


def panel_key(row: Row) -> str:
    return f"{row.params.get('task.name', '')}: {row.params.get('optimizer.name', '')}"


def heatmap_png(
    rows: list[Row], axes: dict[str, list[str]], configs: dict, ranking: Ranking
) -> bytes:
    return to_png(heatmap_figure(rows, axes, configs, ranking), tight=True)


def heatmap_figure(
    rows: list[Row], axes: dict[str, list[str]], configs: dict[str, dict], ranking: Ranking
) -> Figure:
    """The ranking's metric over lr x momentum, one panel per task and optimizer; the best
    cells are dark whichever the mode. `configs` maps trial_id to the trial's config (for the
    quadratic's lambda_max)."""
    panels = defaultdict(list)
    for row in rows:
        panels[panel_key(row)].append(row)
    ranked = best(rows, ranking)
    colour = Colour([r.final[ranking.metric] for r in ranked], ranking)
    best_row = ranked[0] if ranked else None
    lines, columns = grid_shape(len(panels))
    figure = Figure(figsize=(6.5 * columns, 4.8 * lines))
    for index, (title, members) in enumerate(sorted(panels.items()), start=1):
        axes_ = figure.add_subplot(lines, columns, index)
        x_key, y_key = heatmap_axes(members, axes)
        image = _panel(axes_, members, (x_key, y_key), colour, ranking, configs, best_row)
        outlined = any(row is best_row for row in members)
        axes_.set_title(f"{title} (outlined: the best)" if outlined else title)
        if image is not None:
            figure.colorbar(image, ax=axes_, label=f"{ranking.metric} ({ranking.mode} is best)")
    return figure


class Colour:
    """The heatmap's colour scale: log for a positive loss, linear otherwise."""

    def __init__(self, values: list[float], ranking: Ranking):
        self.cmap = colormaps["viridis" if ranking.mode == "min" else "viridis_r"]
        self.norm = None
        if values and ranking.mode == "min" and min(values) > 0:
            self.norm = LogNorm(min(values), max(values) * (1 + 1e-9))
        elif values:
            self.norm = Normalize(min(values), max(values) + 1e-12)

    def text_colour(self, value: float) -> str:
        """Black on the light end of the colour map, white on the dark end."""
        red, green, blue, _ = self.cmap(self.norm(value))
        return "black" if 0.299 * red + 0.587 * green + 0.114 * blue > 0.5 else "white"


def _panel(axes, rows: list[Row], keys, colour: Colour, ranking: Ranking, configs, best_row):
    """One panel: each cell the aggregate over its trials (seeds, folded axes) that finished,
    the fraction that diverged marked; a cell where none finished says why."""
    (x_key, y_key), metric, aggregate = keys, ranking.metric, ranking.aggregate
    xs = sorted({r.value(x_key) for r in rows}) if x_key else [0.0]
    ys = sorted({r.value(y_key) for r in rows}) if y_key else [0.0]
    cells = defaultdict(list)
    for row in rows:
        cells[(row.value(x_key) if x_key else 0.0, row.value(y_key) if y_key else 0.0)].append(row)
    grid = np.full((len(ys), len(xs)), np.nan)
    labelled = len(xs) * len(ys) <= LABELLED_CELLS
    lost = np.full(grid.shape, np.nan)  # 1: diverged, 0.5: failed; drawn as one layer
    column, line = {x: j for j, x in enumerate(xs)}, {y: i for i, y in enumerate(ys)}
    for (x, y), members in cells.items():
        i, j = line[y], column[x]
        finals = [m.final[metric] for m in members if m.outcome == CONVERGED and metric in m.final]
        diverged = [m.divergence_step for m in members if m.outcome == DIVERGED]
        if not finals:
            if labelled:
                label = f"div@{min(diverged)}" if diverged else "failed"
                axes.text(j, i, label, ha="center", va="center", fontsize=7, color="black")
                axes.add_patch(_cell_patch(j, i, "red" if diverged else "grey"))
            else:
                lost[i, j] = 1.0 if diverged else 0.5
            continue
        # The cell's seeds that finished, aggregated; the fraction that diverged is marked.
        grid[i, j] = float(np.mean(finals) if aggregate == "mean" else np.median(finals))
        if labelled:
            text, shade = f"{grid[i, j]:.2g}", colour.text_colour(grid[i, j])
            if diverged:
                text += f"\n{len(diverged)}/{len(members)} div"
                axes.add_patch(_partial_patch(j, i, len(diverged) / len(members)))
            axes.text(j, i, text, ha="center", va="center", fontsize=7, color=shade)
        elif diverged:
            lost[i, j] = 1.0
        if any(m is best_row for m in members):
            axes.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, edgecolor="cyan", lw=3))
    image = None
    if colour.norm is not None:
        image = axes.imshow(grid, origin="lower", aspect="auto", cmap=colour.cmap, norm=colour.norm)
    if not labelled:
        reds = ListedColormap(["grey", "red"])
        axes.imshow(lost, origin="lower", aspect="auto", cmap=reds, vmin=0.5, vmax=1, alpha=0.5)
    shown_x, shown_y = evenly(range(len(xs)), TICKS), evenly(range(len(ys)), TICKS)
    axes.set_xticks(shown_x, [f"{xs[j]:.3g}" for j in shown_x], rotation=45)
    axes.set_yticks(shown_y, [f"{ys[i]:.3g}" for i in shown_y] if y_key else [""])
    axes.set_xlim(-0.5, len(xs) - 0.5)
    axes.set_ylim(-0.5, len(ys) - 0.5)
    axes.set_xlabel(x_key or "")
    axes.set_ylabel(y_key or "")
    _stability_boundary(axes, rows, x_key, y_key, xs, ys, configs)
    return image


def _partial_patch(j, i, fraction: float):
    """A red band along the cell's bottom, as high as the fraction of its seeds that diverged."""
    return Rectangle((j - 0.5, i - 0.5), 1, fraction, facecolor="red", alpha=0.3, edgecolor="none")


def _cell_patch(j, i, color):
    return Rectangle(
        (j - 0.5, i - 0.5), 1, 1, facecolor=color, alpha=0.25, hatch="//", edgecolor=color
    )


def _stability_boundary(axes, rows, x_key, y_key, xs, ys, configs) -> None:
    """On the quadratic, heavy-ball momentum converges iff 0 < lr < 2 (1 + m) / lambda_max."""
    first = rows[0].params
    if first.get("task.name") != "quadratic" or first.get("optimizer.name") not in HEAVY_BALL:
        return
    if x_key != LR or y_key not in (None, "optimizer.momentum") or len(xs) < 2:
        return
    task = build_task(configs[rows[0].trial_id]["task"], seed=0)
    log_xs = np.log(xs)
    line_x, line_y = [], []
    for i, momentum in enumerate(ys):
        if y_key is None:
            momentum = float(first.get("optimizer.momentum", 0.0))
        limit = np.log(task.max_stable_lr(momentum))
        position = np.interp(limit, log_xs, np.arange(len(xs)), left=-0.5, right=len(xs) - 0.5)
        line_x += [position, position]
        line_y += [i - 0.5, i + 0.5]
    axes.plot(line_x, line_y, color="orange", lw=2.5, label="lr = 2(1+m)/lambda_max")
    axes.legend(loc="upper left", fontsize=7)
