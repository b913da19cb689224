"""A local JSON-lines file of Results the tracking store could not take, logged by the next run."""

import base64
import json
import os
from pathlib import Path

import numpy as np

from trainer.result import Divergence, Result
from trainer.uri import sqlite_path


def spool_path(uri: str, sweep_id: str) -> Path:
    """Beside a sqlite store; in the working directory for a remote server."""
    path = sqlite_path(uri)
    folder = path.parent if path is not None else Path.cwd()
    return folder / ".gradsweep-spool" / f"{sweep_id}.jsonl"


def to_json(result: Result) -> str:
    record = {
        "config": result.config,
        "outcome": result.outcome,
        "train_loss": result.train_loss.tolist(),
        "evals": result.evals,
        "final": result.final,
        "divergence": vars(result.divergence) if result.divergence else None,
        "wall_time": result.wall_time,
        "trajectory": None if result.trajectory is None else result.trajectory.tolist(),
        "error": result.error,
        "node": result.node,
        "trial_id": result.trial_id,
        "plots": {name: base64.b64encode(data).decode() for name, data in result.plots.items()},
    }
    return json.dumps(record)


def from_json(line: str) -> Result:
    record = json.loads(line)
    record["train_loss"] = np.array(record["train_loss"], dtype=np.float64)
    if record["trajectory"] is not None:
        record["trajectory"] = np.array(record["trajectory"], dtype=np.float64)
    if record["divergence"] is not None:
        record["divergence"] = Divergence(**record["divergence"])
    record["plots"] = {name: base64.b64decode(data) for name, data in record["plots"].items()}
    return Result(**record)


class Spool:
    def __init__(self, path: Path):
        self.path = path

    def append(self, result: Result) -> None:
        """One line per Result, flushed to disk before the driver moves on."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a") as file:
            file.write(to_json(result) + "\n")
            file.flush()
            os.fsync(file.fileno())

    def load(self) -> list[Result]:
        """The spooled Results, the last one per trial; a line cut short by a crash is skipped."""
        if not self.path.exists():
            return []
        results = {}
        for line in self.path.read_text().splitlines():
            try:
                result = from_json(line)
            except (json.JSONDecodeError, KeyError, TypeError):
                continue
            results[result.trial_id] = result
        return list(results.values())

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)
