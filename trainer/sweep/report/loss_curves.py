"""The parent run's loss curves: every trial's training loss, one panel per momentum."""

import warnings
from collections import defaultdict

import numpy as np
from matplotlib import colormaps
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from numpy.lib.stride_tricks import sliding_window_view

from trainer.plots import log_scale, to_png
from trainer.sweep.record.rows import Row
from trainer.sweep.report.configs import key_of
from trainer.sweep.report.heatmap import evenly, grid_shape, heatmap_axes, panel_key
from trainer.training.result import DIVERGED

# Loss curves are averaged over windows of about 1% of the run.
SMOOTHING_POINTS = 100
# A large sweep shows evenly spaced values of each axis: at most this many panels (second axis)
# and curves per panel (first axis), so that each stays legible.
MAX_PANELS, MAX_SHADES = 6, 10


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
        every = sorted({r.value(colour_key) for r in rows if r.curve.size})
        values = evenly(every, MAX_SHADES)
        palette = colormaps["plasma"](np.linspace(0.0, 0.85, len(values)))
        shades = dict(zip(values, palette, strict=True))
        rows = [r for r in rows if colour_key not in r.params or r.value(colour_key) in shades]
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
    if colour_key and len(shades) < len(every):
        colouring += f" ({len(shades)} of its {len(every)} values)"
    figure.suptitle(f"Training loss of every trial{scope}{colouring}")
    shared = None
    for index, (title, members) in enumerate(panels.items(), start=1):
        plot = figure.add_subplot(lines, columns, index, sharex=shared, sharey=shared)
        shared = shared or plot
        for seeds in by_configuration(members):
            row = seeds[0]
            shade = shades.get(row.value(colour_key), "grey") if colour_key else "grey"
            if len(seeds) == 1:
                _draw_curve(plot, row, shade, window)
            else:
                _draw_band(plot, seeds, shade, window)
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
        for value in evenly(sorted({r.value(y_key) for r in members}), MAX_PANELS):
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


def by_configuration(rows: list[Row]) -> list[list[Row]]:
    """Rows grouped into configurations: trials that differ only by seed."""
    groups: dict[tuple, list[Row]] = {}
    for row in rows:
        groups.setdefault(key_of(row), []).append(row)
    return list(groups.values())


def _draw_band(plot, seeds: list[Row], shade, window: int) -> None:
    """A configuration's seeds: the median curve and the band between the quartiles, at each
    step over the seeds still training there (a diverged seed's curve ends at its threshold);
    each divergence marked."""
    length = max(row.curve.size for row in seeds)
    curves = np.full((len(seeds), length), np.nan)
    for k, row in enumerate(seeds):
        clipped = np.minimum(row.curve, divergence_threshold(row))
        curves[k, : row.curve.size] = trailing_mean(clipped, window)
    steps = np.arange(length)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a step no seed reached
        low, middle, high = np.nanpercentile(curves, [25, 50, 75], axis=0)
    plot.fill_between(steps, low, high, color=shade, alpha=0.2, lw=0)
    plot.plot(steps, middle, color=shade, lw=0.9)
    for row in seeds:
        if row.outcome == DIVERGED:
            plot.plot(row.divergence_step, divergence_threshold(row), "x", color="black", ms=6)


def trailing_mean(values: np.ndarray, window: int) -> np.ndarray:
    """The mean of each step's last `window` losses: a minibatch loss is a noisy sample of the
    training loss, and on a log scale the batches that happen to fit perfectly (loss near 0)
    would hide the trend. Trailing, so a blow-up shows at the step it starts."""
    padded = np.concatenate([np.full(window - 1, np.nan), values])
    return np.nanmean(sliding_window_view(padded, window), axis=1)


def divergence_threshold(row: Row) -> float:
    """The loss above which the run was called diverged: factor x its initial loss."""
    return float(row.params["trainer.divergence.factor"]) * abs(float(row.curve[0]))
