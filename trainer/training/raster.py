"""A 2-D run's path over its loss contours, drawn straight into pixels for every trial.

A millisecond or so, against a tenth of a second for a matplotlib figure: every trial of a large
sweep can have one.
"""

import struct
import zlib

import numpy as np

from trainer.contract import TRAJECTORY_FILE
from trainer.training.result import Result

WIDTH, HEIGHT = 360, 300
LEVELS = 15
# Viridis at 0, 1/4, 1/2, 3/4 and 1 (low loss dark, high loss light), blended towards white so
# the path stands out; contour lines are the bands' edges, drawn in the darker band's colour.
VIRIDIS = np.array([[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]])
PALE = 0.55
PATH_RGB, MARK_RGB = (220, 20, 60), (0, 0, 0)


def band_colours(count: int) -> tuple[np.ndarray, np.ndarray]:
    """(fill, line) RGB per band: viridis interpolated, pale for the fill, full for the line."""
    at = np.linspace(0, len(VIRIDIS) - 1, count)
    line = np.stack([np.interp(at, np.arange(len(VIRIDIS)), VIRIDIS[:, c]) for c in range(3)], 1)
    fill = line + PALE * (255 - line)
    return fill.astype(np.uint8), line.astype(np.uint8)


def contour_image(surface: np.ndarray) -> np.ndarray:
    """HEIGHT x WIDTH x 3 pixels: the surface in LEVELS log-spaced bands with their edges drawn."""
    floor = max(surface.min(), 1e-12 * max(surface.max(), 1e-12)) + 1e-12
    levels = np.geomspace(floor, surface.max() + floor, LEVELS)
    band = np.searchsorted(levels, surface + floor).clip(0, LEVELS - 1)
    fill, line = band_colours(LEVELS)
    image = fill[band]
    edge = np.zeros(band.shape, dtype=bool)
    edge[:, 1:] |= band[:, 1:] != band[:, :-1]
    edge[1:, :] |= band[1:, :] != band[:-1, :]
    image[edge] = line[band[edge]]
    return image


def draw_path(image: np.ndarray, columns: np.ndarray, rows: np.ndarray) -> None:
    """Straight segments between consecutive pixel points, two pixels wide."""
    if len(columns) > 1:
        lengths = np.ceil(np.maximum(np.abs(np.diff(columns)), np.abs(np.diff(rows)))) + 1
        lengths = lengths.clip(1, WIDTH + HEIGHT).astype(np.int64)
        segment = np.repeat(np.arange(len(lengths)), lengths)
        offsets = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        fraction = offsets / np.maximum(lengths[segment] - 1, 1)
        columns = columns[segment] + fraction * (columns[segment + 1] - columns[segment])
        rows = rows[segment] + fraction * (rows[segment + 1] - rows[segment])
    c, r = np.rint(columns).astype(np.int64), np.rint(rows).astype(np.int64)
    for dc, dr in ((0, 0), (1, 0), (0, 1), (1, 1)):
        mark(image, c + dc, r + dr, PATH_RGB)


def mark(image: np.ndarray, columns, rows, rgb) -> None:
    """Colour the pixels at (columns, rows) that fall inside the image."""
    columns, rows = np.atleast_1d(columns), np.atleast_1d(rows)
    inside = (columns >= 0) & (columns < image.shape[1]) & (rows >= 0) & (rows < image.shape[0])
    image[rows[inside], columns[inside]] = rgb


def square(image: np.ndarray, column: int, row: int, radius: int) -> None:
    columns, rows = np.meshgrid(
        np.arange(-radius, radius + 1) + column, np.arange(-radius, radius + 1) + row
    )
    mark(image, columns.ravel(), rows.ravel(), MARK_RGB)


def cross(image: np.ndarray, column: int, row: int, radius: int) -> None:
    """A plus sign, two pixels thick."""
    offsets = np.arange(-radius, radius + 1)
    for thick in (0, 1):
        mark(image, column + offsets, np.full_like(offsets, row + thick), MARK_RGB)
        mark(image, np.full_like(offsets, column + thick), row + offsets, MARK_RGB)


def png(image: np.ndarray) -> bytes:
    """An RGB PNG file of the pixels: unfiltered rows, zlib's fastest level."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    height, width, _ = image.shape
    rows = np.concatenate([np.zeros((height, 1), np.uint8), image.reshape(height, -1)], axis=1)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows.tobytes(), 1))
        + chunk(b"IEND", b"")
    )


def trajectory_png(trajectory: np.ndarray, surface, minimum: tuple[float, float]) -> bytes:
    """The lecture's picture: the path (crimson, start a black square) over the contours of
    `surface(x, y)`, the minimum a black cross. A diverged path is drawn until it leaves a box
    10x the start."""
    (min_x, min_y) = minimum
    scale = 10.0 * max(np.abs(trajectory[0]).max(), abs(min_x), abs(min_y), 1.0)
    inside = np.all(np.abs(trajectory) <= scale, axis=1)
    path = trajectory[: len(inside) if inside.all() else int(np.argmin(inside)) or 1]
    xs = np.concatenate([path[:, 0], [min_x]])
    ys = np.concatenate([path[:, 1], [min_y]])
    pad_x, pad_y = 0.15 * (np.ptp(xs) or 1.0), 0.15 * (np.ptp(ys) or 1.0)
    left, right = xs.min() - pad_x, xs.max() + pad_x
    bottom, top = ys.min() - pad_y, ys.max() + pad_y
    # Row 0 is the top of the picture: y runs downwards in pixels.
    grid_x, grid_y = np.meshgrid(np.linspace(left, right, WIDTH), np.linspace(top, bottom, HEIGHT))
    image = contour_image(surface(grid_x, grid_y))

    def column(x):
        return (x - left) / (right - left) * (WIDTH - 1)

    def row(y):
        return (top - y) / (top - bottom) * (HEIGHT - 1)

    draw_path(image, column(path[:, 0]), row(path[:, 1]))
    square(image, round(column(path[0, 0])), round(row(path[0, 1])), 3)
    cross(image, round(column(min_x)), round(row(min_y)), 5)
    return png(image)


def render_run_plots(result: Result, task) -> dict[str, bytes]:
    """The figures a run's MLflow record carries: for a 2-D task its path over the loss contours
    (a run's loss curve is MLflow's own metric chart). The trained `task` gives the contours."""
    if result.error is not None or result.steps_run == 0 or result.trajectory is None:
        return {}
    return {TRAJECTORY_FILE: trajectory_png(result.trajectory, task.surface, task.minimum())}
