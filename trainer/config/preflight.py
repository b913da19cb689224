"""Before anything starts: every session setting checked, then the tracking store and Ray reached,
read-only. A URI is shown with its credentials masked."""

import os
import socket
import sqlite3
import sys
from contextlib import closing
from pathlib import Path
from urllib.parse import urlparse

from trainer.config.database import check_database, check_scheme_spelling
from trainer.config.errors import ConfigError
from trainer.config.ranges import check_given_ranges
from trainer.config.redact import mask_uri
from trainer.config.schema import SCHEMAS
from trainer.config.targets import check_schema_keys
from trainer.config.uri import resolve_uri, sqlite_path

REMOTE_SCHEMES = ("http", "https")
DATABASE_SCHEMES = ("sqlite", "postgresql", "mysql", "mssql")
DEFAULT_PORTS = {"http": 80, "https": 443, "postgresql": 5432, "mysql": 3306, "mssql": 1433}
SESSION_GROUPS = ("ray", "sweep", "tracking")


def check_session_values(session: dict) -> None:
    """What a sweep session's settings say, checked without reaching anything: ranges declared
    beside each schema (trainer/config/schema.py), names, the address's and the URI's form."""
    for group in SESSION_GROUPS:
        check_group_ranges(group, session[group])
    if not str(session["sweep"]["name"]).strip():
        raise ConfigError("sweep.name is empty: name the sweep (its parent run is named after it)")
    if session["tracking"]["enabled"]:
        check_tracking_values(session["tracking"])
    check_address_form(session["ray"]["address"])


def check_group_ranges(group: str, values: dict) -> None:
    """A session group's keys are its schema's (none added with +), its numbers in range."""
    schema = SCHEMAS[group][group]
    check_schema_keys(group, values, schema)
    try:
        check_given_ranges(group, values, schema.ranges)
    except ValueError as error:
        raise ConfigError(str(error)) from None


def check_tracking_values(tracking: dict) -> str:
    """The store's absolute URI, its form and the experiment name checked; nothing reached."""
    check_group_ranges("tracking", tracking)
    if not str(tracking["experiment"]).strip():
        raise ConfigError("tracking.experiment is empty: name the MLflow experiment to log to")
    if tracking["uri"]:
        check_uri_form(tracking["uri"])  # as written: `sqlite:///:memory:` is not a file path
    uri = resolve_uri(tracking["uri"])
    check_uri_form(uri)
    return uri


def check_session(session: dict) -> str | None:
    """A sweep session's tracking store and Ray address, reached; the store's absolute URI, or
    None for `tracking=none` (the sweep records nothing)."""
    check_session_values(session)
    uri = check_tracking(session["tracking"]) if session["tracking"]["enabled"] else None
    check_address(session["ray"]["address"])
    return uri


def check_tracking(tracking: dict) -> str:
    """The store's absolute URI, once it and the experiment name are known to be usable."""
    uri = check_tracking_values(tracking)
    check_store(uri)
    path = sqlite_path(uri)
    if path is not None and path.is_file():
        check_experiment_not_deleted(path, tracking["experiment"])
    return uri


def check_experiment_not_deleted(path: Path, experiment: str) -> None:
    """MLflow refuses to log to a deleted experiment: tell the user before anything runs.
    Read-only, with sqlite itself: MLflow's import costs seconds and opening a store writes."""
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
            found = db.execute(
                "SELECT experiment_id, lifecycle_stage FROM experiments WHERE name = ?",
                (experiment,),
            ).fetchone()
    except sqlite3.Error:
        return  # not an MLflow store yet, or locked: MLflow will create or wait for it
    if found is not None and found[1] == "deleted":
        raise ConfigError(
            f"tracking.experiment={experiment} is deleted in {path}: restore it with "
            f"`mlflow experiments restore --experiment-id {found[0]}` or choose another name"
        )


def refuse_uri(uri: str, reason: str) -> ConfigError:
    shown = mask_uri(uri)
    if "://" not in uri and "@" in uri:
        # No scheme, so not a URI to mask_uri, but `user:password@host` all the same.
        shown = f"***@{uri.rpartition('@')[2]}"
    return ConfigError(f"tracking.uri={shown} {reason}")


def check_uri_form(uri: str) -> None:
    """A scheme MLflow records with, a host and port where it needs them, a file for sqlite."""
    check_scheme_spelling(uri)
    parsed = urlparse(uri)
    scheme = parsed.scheme.split("+")[0]
    if scheme not in REMOTE_SCHEMES + DATABASE_SCHEMES:
        allowed = ", ".join(f"{s}://" for s in REMOTE_SCHEMES + DATABASE_SCHEMES)
        raise refuse_uri(uri, f"is not supported: use one of {allowed}")
    if scheme == "sqlite":
        path = sqlite_path(uri)
        if path is None or parsed.netloc or str(path) in ("", ":memory:"):
            raise refuse_uri(
                uri,
                "is not allowed: an in-memory or hostless sqlite URI keeps nothing; "
                "name a file, e.g. sqlite:///mlflow.db",
            )
        return
    try:
        port = parsed.port
    except ValueError:
        port = -1
    if port is not None and not 0 < port < 65536:
        raise refuse_uri(uri, "is not allowed: a port must be in 1..65535")
    if not parsed.hostname:
        raise refuse_uri(uri, f"names no host: use {scheme}://host:port")


def check_store(uri: str, timeout: float = 3.0) -> None:
    """Fail fast, writing nothing, when the store cannot be written or the server is not there."""
    check_uri_form(uri)
    path = sqlite_path(uri)
    if path is not None:
        directory = path.parent
        if path.is_dir():
            raise refuse_uri(uri, f"is not a database file: {path} is a directory")
        if path.exists() and not os.access(path, os.W_OK):
            raise refuse_uri(uri, f"is not writable: {path} is read-only")
        if path.exists() and not is_sqlite_file(path):
            raise refuse_uri(uri, f"is not allowed: {path} exists and is not an SQLite database")
        if not directory.is_dir() or not os.access(directory, os.W_OK):
            raise refuse_uri(
                uri, f"is not writable: directory {directory} does not exist or cannot be written"
            )
        return
    parsed = urlparse(uri)
    scheme = parsed.scheme.split("+")[0]
    port = parsed.port or DEFAULT_PORTS[scheme]
    reason = unreachable(parsed.hostname, port, timeout)
    if reason:
        what = "the MLflow server" if scheme in REMOTE_SCHEMES else "the database server"
        raise refuse_uri(
            uri,
            f"is unreachable ({reason}); start {what} or point tracking.uri at a running one",
        )
    if scheme in DATABASE_SCHEMES:
        check_database(uri, timeout)


def is_sqlite_file(path: Path) -> bool:
    """An SQLite database (its 16-byte header) or an empty file sqlite would make one of."""
    if not path.is_file():
        return False
    with path.open("rb") as file:
        header = file.read(16)
    return header in (b"", b"SQLite format 3\x00")


def unreachable(host: str, port: int, timeout: float) -> str | None:
    """Why nothing answers at host:port, or None when something listens there."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return None
    except OSError as error:
        return error.strerror or str(error) or type(error).__name__


RAY_CLIENT = "ray://"
RAY_CLIENT_PORT = 10001  # Ray Client's default


def check_address_form(address: str) -> None:
    if not address or address == "auto":
        return
    host, _, port = host_and_port(address)
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(
            f"ray.address={address} is not allowed: use '' (local), 'auto', host:port or "
            "ray://host:port (port 1..65535)"
        )


def check_address(address: str, timeout: float = 3.0) -> None:
    """`host:port` must have something listening; `auto` must find a cluster to attach to."""
    check_address_form(address)
    shown = f"ray.address={address}"
    if address == "auto":
        address, source = running_cluster()
        if address is None:
            raise ConfigError(
                f"{shown}: no running Ray cluster to attach to ({source}); start one with "
                "`ray start --head`, or leave ray.address empty for a local Ray"
            )
        shown = f"{shown} ({source} says {address})"
    if not address:
        return
    host, _, port = host_and_port(address)
    reason = unreachable(host, int(port), timeout) if port.isdigit() else "not host:port"
    if reason:
        raise ConfigError(
            f"{shown}: nothing is listening there ({reason}); start the cluster with "
            "`ray start --head` or leave ray.address empty for a local Ray"
        )


def host_and_port(address: str) -> tuple[str, str, str]:
    """`host:port` as (host, ":", port); a Ray Client address `ray://host[:port]` too."""
    if address.startswith(RAY_CLIENT):
        address = address[len(RAY_CLIENT) :].rstrip("/")
        if ":" not in address:
            address = f"{address}:{RAY_CLIENT_PORT}"
    return address.rpartition(":")


def running_cluster() -> tuple[str | None, str]:
    """The address `ray.init(address="auto")` attaches to, as Ray finds it: $RAY_ADDRESS, else
    the file `ray start` writes in Ray's temp directory; and where it was found (or looked)."""
    given = os.environ.get("RAY_ADDRESS", "")
    if given not in ("", "auto"):
        return given, "RAY_ADDRESS"
    temp = os.environ.get("RAY_TMPDIR") or (
        os.environ.get("TMPDIR") if sys.platform.startswith("linux") else None
    )
    current = Path(temp or "/tmp") / "ray" / "ray_current_cluster"
    if current.is_file() and current.read_text().strip():
        return current.read_text().strip(), str(current)
    return None, f"no RAY_ADDRESS and no {current}"
