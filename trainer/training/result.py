"""What one training run returns: plain data, picklable, with no tracking attached."""

from dataclasses import dataclass, field

import numpy as np

from trainer.training.checkpoint import Checkpoint

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
    """One trial's complete record, everything its MLflow run is written from.

    config      the resolved trial config (optimizer, task, trainer)
    outcome     CONVERGED, DIVERGED (stopped by the divergence check) or FAILED (it raised)
    train_loss  the training loss of each step run; a failed trial has none
    evals       {"step": ..., "val_loss": ..., ...} at each evaluation, for tasks with a
                validation set
    final       final_<metric> at the end: train_loss always, the evaluation's metrics if converged
    divergence  where and why a diverged run was stopped, else None
    wall_time   seconds from config to Result
    trajectory  a 2-D task's point at each step, the start included, else None
    error       a failed trial's traceback, else None
    node        the Ray node that ran it ("" outside a sweep, or when the node is unknown)
    node_address  that node's IP address ("" likewise)
    trial_id    the hash of `config` a sweep resumes by
    plots       PNG files by name, drawn where the trial ran
    population  how many trials were trained with it as one vectorised program (0: alone)
    checkpoint  where it stopped, when asked for (trainer/training/checkpoint.py)
    """

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
    node_address: str = ""
    trial_id: str = ""
    plots: dict[str, bytes] = field(default_factory=dict)
    population: int = 0
    # Where the run stopped, for a search that trains it on (successive halving); never
    # recorded: not a field of the MLflow run nor of the spool.
    checkpoint: Checkpoint | None = field(default=None, repr=False, metadata={"record": False})

    @classmethod
    def failed(
        cls, config: dict, error: str, trial_id: str, node: str = "", wall_time: float = 0.0
    ) -> "Result":
        """The record of a trial that raised (or whose worker was lost): no steps, its traceback."""
        return cls(
            config=config,
            outcome=FAILED,
            train_loss=np.empty(0),
            error=error,
            wall_time=wall_time,
            node=node,
            trial_id=trial_id,
        )

    @property
    def steps_run(self) -> int:
        return len(self.train_loss)
