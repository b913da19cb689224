"""PNG figures of one run: its loss curve, and for 2-D tasks its path over the loss contours."""

import io

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullLocator

from trainer.contract import LOSS_CURVE_FILE, TRAIN_LOSS, TRAJECTORY_FILE, VAL_LOSS
from trainer.naming import numeric_hyperparameters, optimizer_name
from trainer.result import Result


def to_png(figure: Figure, tight: bool = False) -> bytes:
    """Render without pyplot, so no global state and no display are involved."""
    FigureCanvasAgg(figure)
    if tight:
        figure.tight_layout()
    else:
        # Fixed margins: tight_layout measures every label, half the cost of a run's figure.
        figure.subplots_adjust(left=0.13, right=0.97, bottom=0.12, top=0.92)
    buffer = io.BytesIO()
    # zlib's fastest level: a tenth larger files, a tenth of a figure's time saved.
    figure.savefig(buffer, format="png", dpi=100, pil_kwargs={"compress_level": 1})
    return buffer.getvalue()


def log_scale(axes) -> None:
    """A log y axis with plain-text labels, at most 5 of them, and no minor ticks: tick labels
    are most of matplotlib's cost for a small figure."""
    axes.set_yscale("log")
    axes.yaxis.set_major_locator(LogLocator(numticks=5))
    axes.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:.0e}"))
    axes.yaxis.set_minor_locator(NullLocator())


def title_of(config: dict) -> str:
    optimizer = config["optimizer"]
    extras = [f"{k}={v:g}" for k, v in numeric_hyperparameters(optimizer).items()]
    return f"{config['task']['name']}: {optimizer_name(optimizer)} " + " ".join(extras)


def loss_curve_png(result: Result) -> bytes:
    figure = Figure(figsize=(6, 4))
    axes = figure.add_subplot()
    steps = np.arange(result.steps_run)
    positive = np.all(result.train_loss > 0)
    axes.plot(steps, result.train_loss, lw=1, label=TRAIN_LOSS)
    if result.evals:
        axes.plot(
            [e["step"] for e in result.evals],
            [e[VAL_LOSS] for e in result.evals],
            "o-",
            ms=3,
            label=VAL_LOSS,
        )
    if result.divergence is not None:
        axes.axvline(
            result.divergence.step,
            color="red",
            ls="--",
            label=f"diverged at step {result.divergence.step}",
        )
    if positive and result.steps_run:
        log_scale(axes)
    axes.xaxis.set_major_locator(MaxNLocator(5, integer=True))
    axes.set(xlabel="step", ylabel="loss", title=title_of(result.config))
    axes.legend(fontsize=8)
    return to_png(figure)


def trajectory_png(result: Result, task) -> bytes:
    """The lecture's picture: the optimizer's path drawn over the contours of the objective."""
    (min_x, min_y) = task.minimum()
    # A diverged path runs off to huge values: draw it until it leaves a box 10x the start.
    scale = 10.0 * max(np.abs(result.trajectory[0]).max(), abs(min_x), abs(min_y), 1.0)
    inside = np.all(np.abs(result.trajectory) <= scale, axis=1)
    path = result.trajectory[: len(inside) if inside.all() else int(np.argmin(inside)) or 1]
    xs = np.concatenate([path[:, 0], [min_x]])
    ys = np.concatenate([path[:, 1], [min_y]])
    pad_x = 0.15 * (np.ptp(xs) or 1.0)
    pad_y = 0.15 * (np.ptp(ys) or 1.0)
    grid_x, grid_y = np.meshgrid(
        np.linspace(xs.min() - pad_x, xs.max() + pad_x, 120),
        np.linspace(ys.min() - pad_y, ys.max() + pad_y, 120),
    )
    surface = task.surface(grid_x, grid_y)
    floor = max(surface.min(), 1e-12 * max(surface.max(), 1e-12)) + 1e-12
    levels = np.geomspace(floor, surface.max() + floor, 15)
    figure = Figure(figsize=(6, 5))
    axes = figure.add_subplot()
    axes.contour(
        grid_x,
        grid_y,
        surface + floor,
        levels=levels,
        norm=LogNorm(),
        cmap="viridis",
        linewidths=0.7,
    )
    axes.plot(path[:, 0], path[:, 1], "-", color="crimson", lw=1, marker=".", ms=2)
    axes.plot(path[0, 0], path[0, 1], "ko", ms=5, label="start")
    axes.plot(min_x, min_y, "k*", ms=9, label="minimum")
    axes.set(xlabel="x", ylabel="y", title=title_of(result.config))
    axes.legend(fontsize=8)
    return to_png(figure)


def render_run_plots(result: Result, task) -> dict[str, bytes]:
    """The figures a run's MLflow record carries; the trained `task` draws a 2-D one's contours."""
    if result.error is not None or result.steps_run == 0:
        return {}
    plots = {LOSS_CURVE_FILE: loss_curve_png(result)}
    if result.trajectory is not None:
        plots[TRAJECTORY_FILE] = trajectory_png(result, task)
    return plots
