"""Before anything starts: read-only checks of the tracking store and the Ray address."""

import os
import socket
from urllib.parse import urlparse

from trainer.config import ConfigError
from trainer.uri import resolve_uri, sqlite_path

REMOTE_SCHEMES = ("http", "https")
DATABASE_SCHEMES = ("sqlite", "postgresql", "mysql", "mssql")


def check_session(session: dict) -> str | None:
    """A sweep session's tracking store and Ray address, checked; the store's absolute URI, or
    None for `tracking=none` (the sweep records nothing)."""
    uri = check_tracking(session["tracking"]) if session["tracking"]["enabled"] else None
    check_address(session["ray"]["address"])
    return uri


def check_tracking(tracking: dict) -> str:
    """The store's absolute URI, once it and the experiment name are known to be usable."""
    if not str(tracking["experiment"]).strip():
        raise ConfigError("tracking.experiment is empty: name the MLflow experiment to log to")
    uri = resolve_uri(tracking["uri"])
    check_store(uri)
    return uri


def check_store(uri: str, timeout: float = 3.0) -> None:
    """Fail fast, writing nothing, when the store cannot be written or the server is not there."""
    scheme = urlparse(uri).scheme.split("+")[0]
    if scheme not in REMOTE_SCHEMES + DATABASE_SCHEMES:
        allowed = ", ".join(f"{s}://" for s in REMOTE_SCHEMES + DATABASE_SCHEMES)
        raise ConfigError(f"tracking.uri={uri} is not supported: use one of {allowed}")
    path = sqlite_path(uri)
    if path is not None:
        directory = path.parent
        if path.is_dir():
            raise ConfigError(f"tracking.uri={uri} is not a database file: {path} is a directory")
        if path.exists() and not os.access(path, os.W_OK):
            raise ConfigError(f"tracking.uri={uri} is not writable: {path} is read-only")
        if not directory.is_dir() or not os.access(directory, os.W_OK):
            raise ConfigError(
                f"tracking.uri={uri} is not writable: directory {directory} "
                "does not exist or cannot be written"
            )
    elif scheme in REMOTE_SCHEMES:
        check_server(uri, timeout)


def check_server(uri: str, timeout: float) -> None:
    parsed = urlparse(uri)
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        with socket.create_connection((parsed.hostname, port), timeout=timeout):
            pass
    except OSError as error:
        raise ConfigError(
            f"tracking.uri={uri} is unreachable ({error.strerror or error}); start the MLflow "
            "server or point tracking.uri at a running one"
        ) from None


def check_address(address: str, timeout: float = 3.0) -> None:
    """`host:port` must have something listening; `auto` is checked by Ray itself."""
    if not address or address == "auto" or address.startswith("ray://"):
        return
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise ConfigError(
            f"ray.address={address} is not allowed: use '' (local), 'auto' or host:port"
        )
    try:
        with socket.create_connection((host, int(port)), timeout=timeout):
            pass
    except OSError as error:
        raise ConfigError(
            f"ray.address={address}: nothing is listening there ({error.strerror or error}); "
            "start the cluster with `ray start --head` or leave ray.address empty for a local Ray"
        ) from None
