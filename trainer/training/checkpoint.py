"""Where a training run stopped, to continue it exactly: parameters, optimizer state, the record.

Successive halving trains its survivors on from one rung to the next: the run resumed from a
Checkpoint at step s computes exactly what one run to the later step would have (the same
parameters, optimizer state and divergence threshold, and the same minibatches, redrawn from
the seed), so its curve equals a fresh run's.
"""

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Checkpoint:
    """A run after `step` steps: every parameter's values, the optimizer's `state_dict`, the
    divergence monitor's threshold and last finite loss, and the losses, evaluations and (for a
    2-D task) trajectory recorded so far."""

    step: int
    params: list[np.ndarray]
    optimizer: dict
    threshold: float
    last_finite_loss: float | None
    losses: np.ndarray
    evals: list[dict] = field(default_factory=list)
    trajectory: list[np.ndarray] | None = None

    def restore(self, params, optimizer, monitor) -> None:
        """Put the saved values into a freshly built run's parameters, optimizer and monitor."""
        for param, saved in zip(params, self.params, strict=True):
            np.copyto(param.data, saved)
        optimizer.load_state_dict(self.optimizer)
        monitor.threshold, monitor.last_finite_loss = self.threshold, self.last_finite_loss
