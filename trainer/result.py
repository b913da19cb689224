"""What one training run returns: plain data, picklable, with no tracking attached."""

from dataclasses import dataclass, field

import numpy as np

CONVERGED, DIVERGED, FAILED = "converged", "diverged", "failed"


@dataclass
class Divergence:
    """Where and why a run was stopped: the step, the check that fired, the last finite loss."""

    step: int
    reason: str
    last_finite_loss: float | None
    value: float


@dataclass
class Result:
    config: dict
    outcome: str
    train_loss: np.ndarray
    evals: list[dict] = field(default_factory=list)
    final: dict[str, float] = field(default_factory=dict)
    divergence: Divergence | None = None
    wall_time: float = 0.0
    trajectory: np.ndarray | None = None
    error: str | None = None
    node: str = ""
    trial_id: str = ""
    plots: dict[str, bytes] = field(default_factory=dict)

    @property
    def steps_run(self) -> int:
        return len(self.train_loss)
