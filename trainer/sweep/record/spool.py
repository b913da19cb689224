"""A local JSON-lines file of Results the tracking store could not take, logged by the next run."""

import base64
import dataclasses
import fcntl
import json
import os
import stat
import sys
import typing
from collections.abc import Collection
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from trainer.config.redact import mask_uri
from trainer.config.uri import sqlite_path
from trainer.training.result import CONVERGED, DIVERGED, FAILED, Result

# The plots a worker renders for a run (trainer.plots.render_run_plots). A name read back from a
# spool becomes an artifact file name, so nothing else is accepted: no path can be smuggled in.
RUN_PLOT_NAMES = frozenset({"loss_curve.png", "trajectory.png"})
OUTCOMES = frozenset({CONVERGED, DIVERGED, FAILED})
# Readable and writable by the user who ran the sweep only: results may hold their configs.
FILE_MODE, FOLDER_MODE = 0o600, 0o700


def spool_path(uri: str, sweep_id: str) -> Path:
    """Beside a sqlite store; in the working directory for a remote server."""
    path = sqlite_path(uri)
    folder = path.parent if path is not None else Path.cwd()
    return folder / ".gradsweep-spool" / f"{sweep_id}.jsonl"


class SpoolRecordError(ValueError):
    """Why a line of a spool is not replayed: one line."""


# A line's own keys beside the Result's fields: where and by what it was written, and the name
# and tags its child run gets (no name: a probe an earlier run spooled, named when proposed).
ENVELOPE = ("store", "sweep_id", "code", "name", "tags")
RESULT_TYPES = typing.get_type_hints(Result)


@dataclass
class Spooled:
    """One spooled trial: its Result, and the run name and extra tags it is to be logged with."""

    result: Result
    name: str = ""
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def trial_id(self) -> str:
        return self.result.trial_id


def recorded_fields() -> list[dataclasses.Field]:
    """The fields of a Result that its record keeps (a checkpoint is not one)."""
    return [f for f in dataclasses.fields(Result) if f.metadata.get("record", True)]


def _to_plain(value):
    """A Result field's value as JSON: arrays as lists, dataclasses as dicts, bytes as base64."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if dataclasses.is_dataclass(value):
        return dataclasses.asdict(value)
    if isinstance(value, dict) and any(isinstance(v, bytes) for v in value.values()):
        return {key: base64.b64encode(data).decode() for key, data in value.items()}
    return value


def _from_plain(hint, value):
    """A field's JSON value back to its declared type (`RESULT_TYPES`)."""
    kinds = typing.get_args(hint) or (hint,)
    if value is None and type(None) in kinds:
        return None
    if np.ndarray in kinds:
        return np.array(value, dtype=np.float64)
    dataclass_kind = next((k for k in kinds if dataclasses.is_dataclass(k)), None)
    if dataclass_kind is not None:
        return dataclass_kind(**value)
    return value


def to_json(
    result: Result,
    store: str = "",
    sweep_id: str = "",
    code: str = "",
    name: str = "",
    tags: dict[str, str] | None = None,
) -> str:
    """One spool line: every field of the Result, the (masked) store and sweep it was written
    for, the code fingerprint of what computed it, and its run's name and extra tags."""
    envelope = dict(zip(ENVELOPE, (mask_uri(store), sweep_id, code, name, tags or {}), strict=True))
    fields_ = {f.name: _to_plain(getattr(result, f.name)) for f in recorded_fields()}
    return json.dumps({**envelope, **fields_})


def read_record(line: bytes) -> dict:
    """A spool line as a record whose plots are decoded and named from RUN_PLOT_NAMES only;
    SpoolRecordError for anything else."""
    try:
        record = json.loads(line)
    except ValueError:  # also UnicodeDecodeError
        raise SpoolRecordError("not a complete record (cut short by a crash?)") from None
    if not isinstance(record, dict):
        raise SpoolRecordError("not a record")
    if record.get("outcome") not in OUTCOMES or not isinstance(record.get("trial_id"), str):
        raise SpoolRecordError("not a result (no outcome or trial id)")
    plots = record.get("plots")
    if not isinstance(plots, dict):
        raise SpoolRecordError("its plots are not a table of names")
    refused = sorted(name for name in plots if name not in RUN_PLOT_NAMES)
    if refused:
        allowed = ", ".join(sorted(RUN_PLOT_NAMES))
        raise SpoolRecordError(f"plot name {refused[0]!r:.100} refused; allowed: {allowed}")
    try:
        record["plots"] = {
            name: base64.b64decode(data, validate=True) for name, data in plots.items()
        }
    except (TypeError, ValueError):  # binascii.Error is a ValueError
        raise SpoolRecordError("a plot is not base64 data") from None
    return record


def to_result(record: dict) -> Result:
    """The Result a record read by `read_record` holds; SpoolRecordError if it holds none."""
    try:
        names = [f.name for f in recorded_fields()]
        given = {key: record[key] for key in names if key in record}
        # plots were decoded by read_record, which also checked their names.
        return Result(
            **{k: v if k == "plots" else _from_plain(RESULT_TYPES[k], v) for k, v in given.items()}
        )
    except (KeyError, TypeError, ValueError) as error:
        raise SpoolRecordError(f"not a result ({type(error).__name__}: {error})") from None


def warn(path: Path, line_number: int, reason: str) -> None:
    print(f"warning: {path}:{line_number}: {reason}; the record is skipped", file=sys.stderr)


class Spool:
    """The Results of one sweep that one store could not take, one JSON line each.

    Every line carries the masked store URI and the sweep_id it was written for; `load` replays
    only the lines for this spool's own, so a spool shared by two servers (both spooling in the
    working directory) never crosses over. `Spool(path)` alone stands for store "" and sweep "".
    """

    def __init__(self, path: Path, uri: str = "", sweep_id: str = "", code: str = ""):
        self.path = Path(path)
        self.store, self.sweep_id, self.code = mask_uri(uri), sweep_id, code

    @classmethod
    def for_sweep(cls, uri: str, sweep_id: str, code: str = "") -> "Spool":
        """The spool of `sweep_id` for the store at `uri`, at `spool_path(uri, sweep_id)`; with
        `code`, a code fingerprint, results computed by other code are not replayed."""
        return cls(spool_path(uri, sweep_id), uri, sweep_id, code)

    def append(self, result: Result, name: str = "", tags: dict[str, str] | None = None) -> None:
        """One line per Result (with the name and tags of its run), synced to disk before the
        driver moves on; always on a line of its own, even after a line torn by a kill or a
        full disk."""
        line = to_json(result, self.store, self.sweep_id, self.code, name, tags).encode() + b"\n"
        with self._locked() as descriptor:
            size = os.fstat(descriptor).st_size
            if size and os.pread(descriptor, 1, size - 1) != b"\n":
                line = b"\n" + line
            written = 0
            while written < len(line):
                written += os.write(descriptor, line[written:])
            os.fsync(descriptor)

    def load(self) -> list[Result]:
        """The Results of `entries`."""
        return [entry.result for entry in self.entries()]

    def entries(self) -> list[Spooled]:
        """This store's and sweep's spooled Results, the last one per trial. A line that is torn,
        not a result, names a plot outside RUN_PLOT_NAMES, or was written for another store or
        sweep is skipped with a one-line warning on stderr naming the file and line; one computed
        by other code than this spool's is skipped too (its trial is trained again), and goes at
        the next `clear`."""
        results = {}
        for line_number, _, record, mine in self._lines():
            if not mine:
                continue
            if self.code and record.get("code", "") != self.code:
                warn(self.path, line_number, "computed by code that has since changed")
                continue
            try:
                result = to_result(record)
            except SpoolRecordError as error:
                warn(self.path, line_number, str(error))
                continue
            name, tags = record.get("name"), record.get("tags")
            named = isinstance(name, str) and isinstance(tags, dict)
            results[result.trial_id] = Spooled(result, *((name, tags) if named else ()))
        return list(results.values())

    def clear(self, keep: Collection[str] = ()) -> None:
        """Forget this store's and sweep's records but those of the trial ids in `keep`; lines
        written for another one stay."""
        if not self.path.exists():
            return
        with self._locked():
            # Another store's or sweep's records are theirs to replay; torn lines go.
            kept = [
                line
                for _, line, record, mine in self._lines(quiet=True)
                if record is not None and (not mine or record["trial_id"] in keep)
            ]
            if not kept:
                self.path.unlink()
                return
            spare = self.path.with_name(self.path.name + ".new")
            spare.unlink(missing_ok=True)
            descriptor = os.open(spare, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
            with open(descriptor, "wb") as file:
                file.write(b"".join(line + b"\n" for line in kept))
                file.flush()
                os.fsync(file.fileno())
            os.replace(spare, self.path)

    def _lines(self, quiet: bool = False):
        """(line number, line, record or None if it is none, whether it was written for this
        store and sweep) for every line, with a warning for each line not replayed unless quiet."""
        if not self.path.exists():
            return
        for line_number, line in enumerate(self.path.read_bytes().split(b"\n"), start=1):
            if not line.strip():
                continue
            try:
                record = read_record(line)
            except SpoolRecordError as error:
                if not quiet:
                    warn(self.path, line_number, str(error))
                yield line_number, line, None, False
                continue
            store, sweep_id = str(record.get("store", "")), str(record.get("sweep_id", ""))
            mine = (store, sweep_id) == (self.store, self.sweep_id)
            if not mine and not quiet:
                written_for = f"sweep {sweep_id!r:.40} in store {mask_uri(store)!r:.200}"
                warn(self.path, line_number, f"written for {written_for}, not this one")
            yield line_number, line, record, mine

    @contextmanager
    def _locked(self):
        """The spool file open for appending, created 0600 in a 0700 folder, locked against
        another process appending or clearing at the same time."""
        folder = self.path.parent
        folder.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
        if stat.S_IMODE(folder.stat().st_mode) != FOLDER_MODE:
            folder.chmod(FOLDER_MODE)
        while True:
            created = not self.path.exists()
            descriptor = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, FILE_MODE)
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            if os.fstat(descriptor).st_nlink:
                break
            # Cleared by another process while this one waited for the lock: open it anew.
            os.close(descriptor)
        try:
            if stat.S_IMODE(os.fstat(descriptor).st_mode) != FILE_MODE:
                os.fchmod(descriptor, FILE_MODE)
            if created:
                _sync_folder(folder)
            yield descriptor
        finally:
            os.close(descriptor)


def _sync_folder(folder: Path) -> None:
    """A new file's name is on disk only once its folder is synced."""
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
