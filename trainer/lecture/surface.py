"""Optimizer paths drawn over the contours of a 2-D objective, several paths to one axes."""

import numpy as np
from matplotlib.colors import LogNorm

COLOURS = {
    "sgd": "#d62728",
    "momentum": "#1f77b4",
    "nesterov": "#2ca02c",
    "adagrad": "#9467bd",
    "rmsprop": "#ff7f0e",
    "adam": "#17becf",
}


def draw_paths(axes, task, paths: dict[str, np.ndarray], markers=True) -> None:
    """Contours of `task.surface` under each labelled path (label -> (n, 2) array), over the
    paths' extent, with the start, each path's end (a square) and the minimum (a star)."""
    (min_x, min_y) = task.minimum()
    x0, x1, y0, y1 = _extent(paths, (min_x, min_y))
    grid_x, grid_y = np.meshgrid(np.linspace(x0, x1, 200), np.linspace(y0, y1, 200))
    surface = task.surface(grid_x, grid_y)
    floor = max(surface.min(), 1e-3 * surface.max(), 1e-9)
    levels = np.geomspace(floor, surface.max(), 14)
    axes.contour(
        grid_x, grid_y, surface, levels=levels, norm=LogNorm(), cmap="Greys", linewidths=0.6
    )
    for order, (label, path) in enumerate(paths.items()):
        colour = COLOURS.get(label.split()[0], None)
        style = {"marker": ".", "ms": 3} if markers else {}
        # Paths may coincide: each later one is drawn thinner, on top of the earlier ones.
        width = max(2.8 - 0.9 * order, 1.0) if len(paths) > 1 else 1.2
        axes.plot(path[:, 0], path[:, 1], "-", lw=width, color=colour, label=label, **style)
        axes.plot(*path[-1], "s", color=colour, mec="black", ms=6, zorder=5)  # where it ended
    start = next(iter(paths.values()))[0]
    axes.plot(*start, "ko", ms=6)
    axes.annotate("start", start, xytext=(6, 6), textcoords="offset points", fontsize=8)
    axes.plot(min_x, min_y, "k*", ms=11)
    axes.set(xlim=(x0, x1), ylim=(y0, y1), xlabel="x (theta_1)", ylabel="y (theta_2)")


def _extent(paths, minimum):
    points = np.vstack([*paths.values(), [minimum]])
    (x0, y0), (x1, y1) = points.min(axis=0), points.max(axis=0)
    pad_x, pad_y = 0.08 * (x1 - x0 or 1.0), 0.12 * (y1 - y0 or 1.0)
    return x0 - pad_x, x1 + pad_x, y0 - pad_y, y1 + pad_y
