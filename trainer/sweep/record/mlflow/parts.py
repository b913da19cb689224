"""A part of a sweep's trial table: its trials' columns as one compressed .npz, numpy only.

A part is `numpy.savez_compressed` of 1-D columns, read back with `numpy.load(allow_pickle=False)`
(any numpy reads it; `table_frame` makes a pandas DataFrame of parts). One row per trial:
- `name`, `status` (FINISHED or FAILED, as its child run would end), `traceback` (a failed one's);
- `tag:<key>` and `param:<key>`: text, as the child run's tags and params would be (trial_id,
  outcome, divergence.step and .reason, population, code.fingerprint, the search's own, ...;
  the flattened config: every override, optimizer.lr, trainer.seed, ...); where some trials lack
  a key, `absent:tag:<key>` (or `absent:param:<key>`) marks them;
- `metric:<key>`: float64, the final metrics as the trial ended (NaN where it has none);
- the loss curve at the steps `trainer.log_every` keeps, ragged: trial i's steps are
  `curve:steps[curve:offsets[i]:curve:offsets[i+1]]`, their losses likewise in `curve:losses`.
"""

import io
import math
import zipfile
from dataclasses import dataclass, field

import numpy as np

from trainer.sweep.record.children import Data, Info

FORMAT = 1
TAG, PARAM, METRIC, ABSENT = "tag:", "param:", "metric:", "absent:"
OFFSETS, STEPS, LOSSES = "curve:offsets", "curve:steps", "curve:losses"


class TornPart(ValueError):
    """A part that is not a whole table (cut short by a kill, say): one line."""


@dataclass
class TableTrial:
    """One trial of the table, shaped as MLflow's Run (`info`, `data`) like a child run read
    back (record/children.py), with its tracked curve."""

    info: Info
    data: Data
    steps: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    losses: np.ndarray = field(default_factory=lambda: np.empty(0))
    traceback: str = ""

    def curve(self) -> np.ndarray:
        """Every step's loss up to the last tracked one: NaN at the steps not tracked."""
        if not self.steps.size:
            return np.empty(0)
        curve = np.full(int(self.steps[-1]) + 1, np.nan)
        curve[self.steps] = self.losses
        return curve


def _text(values: list[str]) -> np.ndarray:
    return np.array(values, dtype=str) if values else np.empty(0, dtype="<U1")


def _keyed(columns: dict, prefix: str, rows: list[dict[str, str]]) -> None:
    for key in sorted({key for row in rows for key in row}):
        columns[prefix + key] = _text([row.get(key, "") for row in rows])
        absent = np.array([key not in row for row in rows])
        if absent.any():
            columns[ABSENT + prefix + key] = absent


def to_part(trials: list[TableTrial]) -> bytes:
    """The trials as one part (`TableTrial.data.metrics` holds each one's final metrics)."""
    columns: dict[str, np.ndarray] = {
        "format": np.array(FORMAT),
        "name": _text([t.info.run_name for t in trials]),
        "status": _text([t.info.status for t in trials]),
        "traceback": _text([t.traceback for t in trials]),
    }
    _keyed(columns, TAG, [t.data.tags for t in trials])
    _keyed(columns, PARAM, [t.data.params for t in trials])
    for key in sorted({key for t in trials for key in t.data.metrics}):
        columns[METRIC + key] = np.array(
            [t.data.metrics.get(key, math.nan) for t in trials], dtype=np.float64
        )
    lengths = [t.steps.size for t in trials]
    columns[OFFSETS] = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    empty = [np.empty(0)]
    columns[STEPS] = np.concatenate([t.steps for t in trials] + empty).astype(np.int64)
    columns[LOSSES] = np.concatenate([t.losses for t in trials] + empty).astype(np.float64)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **columns)
    return buffer.getvalue()


def read_columns(data: bytes) -> dict[str, np.ndarray]:
    """A part's columns by name; TornPart if it is not a whole part of this format."""
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as archive:
            columns = {key: archive[key] for key in archive.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
        raise TornPart(f"not a whole part ({type(error).__name__})") from None
    if columns.get("format") is None or int(columns["format"]) != FORMAT:
        raise TornPart(f"not a part of format {FORMAT}")
    if OFFSETS not in columns or columns[OFFSETS].size != columns["name"].size + 1:
        raise TornPart("its curve offsets do not match its trials")
    return columns


def _keyed_rows(columns: dict, prefix: str, count: int) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = [{} for _ in range(count)]
    for name, values in columns.items():
        if not name.startswith(prefix):
            continue
        key, absent = name[len(prefix) :], columns.get(ABSENT + name)
        for i, value in enumerate(values.tolist()):
            if absent is None or not absent[i]:
                rows[i][key] = value
    return rows


def from_part(data: bytes, run_id: str = "") -> list[TableTrial]:
    """The trials of a part, their final metrics as MLflow would keep them (finite ones only);
    `run_id` is what each one's `info.run_id` says (the parent's). TornPart if it is none."""
    columns = read_columns(data)
    count = columns["name"].size
    tags, params = _keyed_rows(columns, TAG, count), _keyed_rows(columns, PARAM, count)
    metrics: list[dict[str, float]] = [{} for _ in range(count)]
    for name, values in columns.items():
        if name.startswith(METRIC):
            for i, value in enumerate(values.tolist()):
                if math.isfinite(value):
                    metrics[i][name[len(METRIC) :]] = value
    offsets, steps, losses = columns[OFFSETS], columns[STEPS], columns[LOSSES]
    return [
        TableTrial(
            Info(run_id, str(columns["name"][i]), str(columns["status"][i])),
            Data(tags[i], params[i], metrics[i]),
            steps[offsets[i] : offsets[i + 1]],
            losses[offsets[i] : offsets[i + 1]],
            str(columns["traceback"][i]),
        )
        for i in range(count)
    ]


def table_frame(parts: list[bytes]):
    """Parts as one pandas DataFrame, a row per trial (in part order), the curve left out:
    columns name, status, and the keys of its tags, params and metrics."""
    import pandas

    frames = []
    for data in parts:
        columns = read_columns(data)
        scalar = {
            key: values
            for key, values in columns.items()
            if values.ndim == 1
            and values.size == columns["name"].size
            and key != "traceback"
            and not key.startswith(ABSENT)
        }
        frames.append(pandas.DataFrame(scalar))
    return pandas.concat(frames, ignore_index=True) if frames else pandas.DataFrame()
