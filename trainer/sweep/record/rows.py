"""A trial as the sweep's record holds it: one row, from a fresh Result or read back from a run."""

import math
from dataclasses import dataclass, field

import numpy as np

from trainer import contract
from trainer.contract import FINAL_KEYS
from trainer.tracking.naming import run_params
from trainer.training.result import FAILED, Result


@dataclass
class Row:
    trial_id: str
    name: str
    params: dict[str, str]
    outcome: str
    final: dict[str, float] = field(default_factory=dict)
    divergence_step: int | None = None
    divergence_reason: str = ""
    wall_time: float = math.nan
    node: str = ""
    curve: np.ndarray = field(default_factory=lambda: np.empty(0))

    @classmethod
    def from_result(cls, result: Result, name: str) -> "Row":
        event = result.divergence
        return cls(
            result.trial_id,
            name,
            run_params(result.config),
            result.outcome,
            dict(result.final),
            event.step if event else None,
            event.reason if event else "",
            result.wall_time,
            result.node,
            result.train_loss,
        )

    @classmethod
    def from_run(cls, run, curve: np.ndarray) -> "Row":
        """A trial logged by an earlier invocation, read back from its MLflow run."""
        tags, metrics = run.data.tags, run.data.metrics
        step = tags.get(contract.DIVERGENCE_STEP)
        return cls(
            tags.get(contract.TRIAL_ID, ""),
            tags.get(contract.RUN_NAME, run.info.run_name),
            dict(run.data.params),
            tags.get(contract.OUTCOME, FAILED),
            {k: metrics[k] for k in FINAL_KEYS if k in metrics},
            int(step) if step is not None else None,
            tags.get(contract.DIVERGENCE_REASON, ""),
            float(tags.get(contract.WALL_TIME, "nan")),
            tags.get(contract.NODE, ""),
            curve,
        )

    def value(self, key: str) -> float:
        return float(self.params[key])
