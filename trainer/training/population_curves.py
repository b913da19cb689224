"""A population's per-step records, each member's loss and (on a 2-D surface) its point: kept
as the arrays each step made, and written into each member's own row in blocks."""

import numpy as np

# Steps kept before they are written out (also when members stop): bounds what is kept.
BLOCK = 1024


class Curves:
    """`losses[member, step]` and `trajectory[member, point]` (the start, then the point after
    each step), for members numbered as the population's configs.

    Writing one step's values into the rows of the members still training is a scatter across
    rows, several times a small population's arithmetic, so each step's arrays are only kept
    (`add_loss`, `add_point`) and written into the rows of the members that made them (`write`)
    a block at a time, and always before those members change."""

    def __init__(self, members: int, steps: int, start: np.ndarray | None):
        self.losses = np.empty((members, steps))
        self.trajectory = None
        if start is not None:  # a 2-D surface: each member's starting point
            self.trajectory = np.empty((members, steps + 1, start.shape[-1]))
            self.trajectory[:, 0] = start
        self.kept_losses: list[np.ndarray] = []
        self.kept_points: list[np.ndarray] = []
        self.first_loss = 0  # the step of kept_losses[0]
        self.first_point = 1  # the point of kept_points[0]

    def resume_at(self, step: int) -> None:
        """Records up to `step` were filled in directly (from checkpoints): keep from there."""
        self.first_loss, self.first_point = step, step + 1

    def add_loss(self, loss: np.ndarray) -> None:
        """This step's losses of the members training."""
        self.kept_losses.append(loss.copy())

    def add_point(self, point: np.ndarray) -> None:
        """The points of the members training after this step (a copy: the parameter moves on)."""
        self.kept_points.append(point.copy())

    def full(self) -> bool:
        return len(self.kept_losses) >= BLOCK

    def write(self, members: np.ndarray) -> None:
        """Write what is kept to the rows of `members`, the members that trained over it."""
        if self.kept_losses:
            stop = self.first_loss + len(self.kept_losses)
            self.losses[members, self.first_loss : stop] = np.array(self.kept_losses).T
            self.kept_losses, self.first_loss = [], stop
        if self.kept_points:
            stop = self.first_point + len(self.kept_points)
            points = np.array(self.kept_points)  # (steps, members, n)
            self.trajectory[members, self.first_point : stop] = points.transpose(1, 0, 2)
            self.kept_points, self.first_point = [], stop
