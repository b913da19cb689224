"""The parent run's figures: final loss over lr x momentum (one panel per optimizer), all curves."""

from collections import defaultdict

import numpy as np
from matplotlib import colormaps
from matplotlib.cm import ScalarMappable
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from trainer.build import build_task
from trainer.contract import FINAL_TRAIN_LOSS, TRAIN_LOSS
from trainer.plots import to_png
from trainer.result import CONVERGED, DIVERGED
from trainer.sweep.summary import Row

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


def panel_key(row: Row) -> str:
    return f"{row.params.get('task.name', '')}: {row.params.get('optimizer.name', '')}"


def heatmap_png(rows: list[Row], axes: dict[str, list[str]], configs: dict[str, dict]) -> bytes:
    """`configs` maps trial_id to the trial's config (for the quadratic's lambda_max)."""
    panels = defaultdict(list)
    for row in rows:
        panels[panel_key(row)].append(row)
    finals = [
        r.final[FINAL_TRAIN_LOSS]
        for r in rows
        if r.outcome == CONVERGED and r.final.get(FINAL_TRAIN_LOSS, 0) > 0
    ]
    norm = LogNorm(min(finals), max(finals) * (1 + 1e-9)) if finals else None
    figure = Figure(figsize=(6.5 * len(panels), 4.8))
    for index, (title, members) in enumerate(sorted(panels.items()), start=1):
        axes_ = figure.add_subplot(1, len(panels), index)
        x_key, y_key = heatmap_axes(members, axes)
        image = _panel(axes_, members, x_key, y_key, norm, configs)
        axes_.set_title(title)
        if image is not None:
            figure.colorbar(image, ax=axes_, label=FINAL_TRAIN_LOSS)
    return to_png(figure, tight=True)


def _panel(axes, rows: list[Row], x_key, y_key, norm, configs):
    xs = sorted({r.value(x_key) for r in rows}) if x_key else [0.0]
    ys = sorted({r.value(y_key) for r in rows}) if y_key else [0.0]
    cells = defaultdict(list)
    for row in rows:
        cells[(row.value(x_key) if x_key else 0.0, row.value(y_key) if y_key else 0.0)].append(row)
    grid = np.full((len(ys), len(xs)), np.nan)
    for (x, y), members in cells.items():
        i, j = ys.index(y), xs.index(x)
        finals = [
            m.final[FINAL_TRAIN_LOSS]
            for m in members
            if m.outcome == CONVERGED and FINAL_TRAIN_LOSS in m.final
        ]
        if finals and all(m.outcome == CONVERGED for m in members):
            grid[i, j] = max(float(np.median(finals)), 1e-300)
        diverged = [m.divergence_step for m in members if m.outcome == DIVERGED]
        label = (
            f"div@{min(diverged)}"
            if diverged
            else ("failed" if not finals else f"{np.median(finals):.2g}")
        )
        axes.text(
            j,
            i,
            label,
            ha="center",
            va="center",
            fontsize=7,
            color="black" if diverged or not finals else "white",
        )
        if diverged or not finals:
            axes.add_patch(_cell_patch(j, i, "red" if diverged else "grey"))
    image = None
    if norm is not None:
        image = axes.imshow(grid, origin="lower", aspect="auto", cmap="viridis", norm=norm)
    axes.set_xticks(range(len(xs)), [f"{x:g}" for x in xs], rotation=45)
    axes.set_yticks(range(len(ys)), [f"{y:g}" for y in ys])
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


def loss_curves_png(rows: list[Row]) -> bytes:
    """Every trial's training loss, coloured by lr; a diverged trial ends in a red cross."""
    figure = Figure(figsize=(8, 5))
    axes = figure.add_subplot()
    with_lr = [r for r in rows if LR in r.params and r.curve.size]
    lrs = [r.value(LR) for r in with_lr]
    norm = LogNorm(min(lrs), max(lrs) * (1 + 1e-9)) if lrs else None
    colormap = colormaps["plasma"]
    for row in rows:
        if not row.curve.size:
            continue
        color = colormap(norm(row.value(LR))) if norm and LR in row.params else "grey"
        axes.plot(np.arange(row.curve.size), row.curve, color=color, lw=0.8, alpha=0.8)
        if row.outcome == DIVERGED:
            axes.plot(row.curve.size - 1, row.curve[-1], "x", color="red", ms=6)
    if all(np.all(r.curve > 0) for r in rows if r.curve.size):
        axes.set_yscale("log")
    if norm is not None:
        figure.colorbar(ScalarMappable(norm=norm, cmap=colormap), ax=axes, label=LR)
    axes.set(xlabel="step", ylabel=TRAIN_LOSS, title="all trials (x: diverged)")
    return to_png(figure, tight=True)
