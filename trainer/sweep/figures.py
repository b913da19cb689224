"""The parent run's figures: the ranking metric over lr x momentum, and every loss curve."""

import math
from collections import defaultdict

import numpy as np
from matplotlib import colormaps
from matplotlib.colors import LogNorm, Normalize
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle
from numpy.lib.stride_tricks import sliding_window_view

from trainer.build import build_task
from trainer.plots import log_scale, to_png
from trainer.result import CONVERGED, DIVERGED
from trainer.sweep.ranking import Ranking
from trainer.sweep.summary import Row, best

LR = "optimizer.lr"
SECOND_AXES = (
    "optimizer.momentum",
    "optimizer.rho",
    "optimizer.rho1",
    "optimizer.rho2",
    "optimizer.delta",
    "trainer.batch_size",
)
HEAVY_BALL = ("sgd", "momentum")
# Loss curves are averaged over windows of about 1% of the run.
SMOOTHING_POINTS = 100


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

    Only axes every row of the panel has count: sgd has no momentum in an optimizer sweep.
    """
    numeric = [key for key in numeric_axes(axes) if all(key in row.params for row in rows)]
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
        image = _panel(axes_, members, x_key, y_key, colour, ranking.metric, configs, best_row)
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


def _panel(axes, rows: list[Row], x_key, y_key, colour: Colour, metric: str, configs, best_row):
    xs = sorted({r.value(x_key) for r in rows}) if x_key else [0.0]
    ys = sorted({r.value(y_key) for r in rows}) if y_key else [0.0]
    cells = defaultdict(list)
    for row in rows:
        cells[(row.value(x_key) if x_key else 0.0, row.value(y_key) if y_key else 0.0)].append(row)
    grid = np.full((len(ys), len(xs)), np.nan)
    for (x, y), members in cells.items():
        i, j = ys.index(y), xs.index(x)
        finals = [m.final[metric] for m in members if m.outcome == CONVERGED and metric in m.final]
        diverged = [m.divergence_step for m in members if m.outcome == DIVERGED]
        if diverged or not finals:
            label = f"div@{min(diverged)}" if diverged else "failed"
            axes.text(j, i, label, ha="center", va="center", fontsize=7, color="black")
            axes.add_patch(_cell_patch(j, i, "red" if diverged else "grey"))
            continue
        grid[i, j] = float(np.median(finals))
        text = f"{grid[i, j]:.2g}"
        axes.text(
            j, i, text, ha="center", va="center", fontsize=7, color=colour.text_colour(grid[i, j])
        )
        if any(m is best_row for m in members):
            axes.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, edgecolor="cyan", lw=3))
    image = None
    if colour.norm is not None:
        image = axes.imshow(grid, origin="lower", aspect="auto", cmap=colour.cmap, norm=colour.norm)
    axes.set_xticks(range(len(xs)), [f"{x:g}" for x in xs], rotation=45)
    axes.set_yticks(range(len(ys)), [f"{y:g}" for y in ys] if y_key else [""])
    axes.set_xlim(-0.5, len(xs) - 0.5)
    axes.set_ylim(-0.5, len(ys) - 0.5)
    axes.set_xlabel(x_key or "")
    axes.set_ylabel(y_key or "")
    _stability_boundary(axes, rows, x_key, y_key, xs, ys, configs)
    return image


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


def loss_curves_png(rows: list[Row], axes: dict[str, list[str]]) -> bytes:
    return to_png(loss_curves_figure(rows, axes), tight=True)


def loss_curves_figure(rows: list[Row], axes: dict[str, list[str]]) -> Figure:
    """Every trial's training loss on a log scale, one panel per value of the heatmap's second
    axis (momentum), coloured by its first (lr), so the lecture's four regimes show: too small
    a learning rate crawls, a good one descends smoothly, too large a one overshoots (a noisy
    curve that stalls or climbs) and far too large a one diverges. A diverged curve ends at its
    divergence step, clipped at the divergence threshold (trainer.divergence.factor x initial
    loss), where a cross marks it."""
    colour_key = heatmap_axes(rows, axes)[0]
    shades = {}
    if colour_key is not None:
        values = sorted({r.value(colour_key) for r in rows if r.curve.size})
        palette = colormaps["plasma"](np.linspace(0.0, 0.85, len(values)))
        shades = dict(zip(values, palette, strict=True))
    panels = _curve_panels(rows, axes, colour_key)
    if not panels:
        figure = Figure(figsize=(6, 2))
        figure.text(0.5, 0.5, "no loss curves: no trial ran a step", ha="center")
        return figure
    window = max(1, max(r.curve.size for r in rows) // SMOOTHING_POINTS)
    lines, columns = grid_shape(len(panels))
    figure = Figure(figsize=(4.6 * columns + 1.4, 3.4 * lines + 0.6))
    groups = sorted({panel_key(r) for r in rows if r.curve.size})
    scope = f" ({groups[0]})" if len(groups) == 1 else ""
    colouring = f", coloured by {colour_key}" if colour_key else ""
    figure.suptitle(f"Training loss of every trial{scope}{colouring}")
    shared = None
    for index, (title, members) in enumerate(panels.items(), start=1):
        plot = figure.add_subplot(lines, columns, index, sharex=shared, sharey=shared)
        shared = shared or plot
        for row in members:
            shade = shades.get(row.value(colour_key), "grey") if colour_key else "grey"
            _draw_curve(plot, row, shade, window)
        threshold = float(np.median([divergence_threshold(row) for row in members]))
        plot.axhline(threshold, color="grey", ls=":", lw=1)
        plot.set_title(title, fontsize=10)
        if index > len(panels) - columns:
            plot.set_xlabel("step")
        if index % columns == 1 or columns == 1:
            plot.set_ylabel(f"train_loss, mean of {window} steps" if window > 1 else "train_loss")
    log_scale(shared)
    if shades:
        handles = [Line2D([], [], color=shade, lw=2) for shade in shades.values()]
        labels = [f"{value:g}" for value in shades]
        if any(r.outcome == DIVERGED for r in rows):
            handles.append(Line2D([], [], color="black", marker="x", ls="", ms=7))
            labels.append("diverged")
        handles.append(Line2D([], [], color="grey", ls=":"))
        labels.append("divergence\nthreshold")
        figure.axes[min(columns, len(panels)) - 1].legend(
            handles,
            labels,
            title=colour_key,
            fontsize=8,
            loc="upper left",
            bbox_to_anchor=(1.02, 1.0),
        )
    return figure


def _curve_panels(rows: list[Row], axes, colour_key) -> dict[str, list[Row]]:
    """Rows grouped by task and optimizer, then by the heatmap's second axis; titled."""
    groups = defaultdict(list)
    for row in rows:
        if row.curve.size:
            groups[panel_key(row)].append(row)
    panels = {}
    for group, members in sorted(groups.items()):
        others = [key for key in heatmap_axes(members, axes) if key not in (None, colour_key)]
        y_key = others[0] if others else None
        prefix = f"{group}, " if len(groups) > 1 else ""
        if y_key is None:
            panels[group] = members
            continue
        for value in sorted({r.value(y_key) for r in members}):
            title = f"{prefix}{y_key.split('.')[-1]} = {value:g}"
            panels[title] = [r for r in members if r.value(y_key) == value]
    return panels


def _draw_curve(plot, row: Row, shade, window: int) -> None:
    steps = np.arange(row.curve.size)
    if row.outcome != DIVERGED:
        plot.plot(steps, trailing_mean(row.curve, window), color=shade, lw=0.9)
        return
    # The curve runs on to its divergence step, where its loss passed the threshold (or was
    # not finite): drawn there at the threshold, and marked.
    threshold = divergence_threshold(row)
    smoothed = trailing_mean(np.minimum(row.curve, threshold), window)
    steps = np.append(steps[steps < row.divergence_step], row.divergence_step)
    losses = np.append(smoothed[: steps.size - 1], threshold)
    plot.plot(steps, losses, color=shade, lw=0.9)
    plot.plot(row.divergence_step, threshold, "x", color="black", ms=7, mew=1.5)


def trailing_mean(values: np.ndarray, window: int) -> np.ndarray:
    """The mean of each step's last `window` losses: a minibatch loss is a noisy sample of the
    training loss, and on a log scale the batches that happen to fit perfectly (loss near 0)
    would hide the trend. Trailing, so a blow-up shows at the step it starts."""
    padded = np.concatenate([np.full(window - 1, np.nan), values])
    return np.nanmean(sliding_window_view(padded, window), axis=1)


def divergence_threshold(row: Row) -> float:
    """The loss above which the run was called diverged: factor x its initial loss."""
    return float(row.params["trainer.divergence.factor"]) * abs(row.curve[0])
