"""The record's one retry policy: which store errors are transient, and how long each is retried.

Three layers answer a busy or absent store, each set here and nowhere else:
1. MLflow's own HTTP client: a few quick retries per request (MLFLOW_HTTP);
2. `retrying`: a write retried with doubling delays for `tracking.retry_seconds` (a parent's
   abort for ABORT_RETRY_SECONDS only);
3. the spool (record/spooled_store.py): once the store stays away, results go to the local
   spool, and every PROBE_SECONDS the next result tries the store once.
"""

import functools
import re
import time
from collections.abc import Callable, Iterator

from trainer.config.preflight import sqlite_path
from trainer.config.redact import mask_uri


# The store's error types are imported where a store is written (its own process), not by the
# sweep's driver, which never imports MLflow: seconds saved beside Ray's start.
@functools.cache
def store_errors() -> tuple[type[BaseException], ...]:
    """What a write to the store raises when it fails: `except store_errors() as error`."""
    import requests
    import sqlalchemy.exc
    from mlflow.exceptions import MlflowException

    return (
        MlflowException,
        requests.exceptions.RequestException,
        sqlalchemy.exc.SQLAlchemyError,
        OSError,
    )


@functools.cache
def transient_codes() -> frozenset[str]:
    """MLflow's error codes for a store that is busy or away for now."""
    from mlflow.protos import databricks_pb2

    return frozenset(
        databricks_pb2.ErrorCode.Name(code)
        for code in (
            databricks_pb2.TEMPORARILY_UNAVAILABLE,
            databricks_pb2.SERVICE_UNDER_MAINTENANCE,
            databricks_pb2.DEADLINE_EXCEEDED,
            databricks_pb2.REQUEST_LIMIT_EXCEEDED,
            databricks_pb2.COULD_NOT_ACQUIRE_LOCK,
        )
    )


# What a store that is busy or away says, whatever wraps it.
TRANSIENT_WORDS = re.compile(
    r"database is locked|timed? ?out|connection (refused|reset|aborted)|remote end closed|"
    r"max retries exceeded|too many 5\d\d|\b50[0234]\b|temporarily unavailable",
    re.IGNORECASE,
)
FIRST_DELAY_SECONDS, LONGEST_DELAY_SECONDS = 0.5, 8.0
# Marking a cut-short sweep's parent is worth a short wait, not the full retry window.
ABORT_RETRY_SECONDS = 10.0
# While the store is unreachable, how often a result tries it once before going to the spool.
PROBE_SECONDS = 5.0
# A few quick retries of MLflow's own per request, then ours. No "View run at <url>" line per
# run: the sweep prints its own lines, credentials masked.
MLFLOW_HTTP = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "30",
    "MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT": "true",
}


def _chain(error: BaseException) -> Iterator[BaseException]:
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        yield error
        error = error.__cause__ or error.__context__


def is_transient(error: BaseException) -> bool:
    """A locked database, a timeout, a refused or reset connection, a 5xx: worth retrying."""
    import requests
    import sqlalchemy.exc
    from mlflow.exceptions import MlflowException

    for link in _chain(error):
        if isinstance(link, requests.exceptions.ConnectionError | requests.exceptions.Timeout):
            return True
        if isinstance(link, ConnectionError | TimeoutError):
            return True
        if isinstance(link, sqlalchemy.exc.OperationalError):
            return True
        if isinstance(link, MlflowException) and link.error_code in transient_codes():
            return True
        if TRANSIENT_WORDS.search(str(link)):
            return True
    return False


def cause(error: BaseException, uri: str) -> str:
    """One line saying why the store at `uri` did not take a write, credentials masked."""
    text = " ".join(str(link) for link in _chain(error)).lower()
    path = sqlite_path(uri)
    if path is not None and "locked" in text:
        return f"the sqlite file {path} is locked by another process"
    if path is not None:
        where = f"the sqlite file {path}"
    elif uri.startswith(("http://", "https://")):
        where = f"the tracking server {mask_uri(uri)}"
    else:
        where = f"the database {mask_uri(uri)}"
    if "refused" in text:
        return f"{where} refused the connection (is it running?)"
    if "timed out" in text or "timeout" in text:
        return f"{where} did not answer in time"
    if re.search(r"too many 5\d\d|\b50[0234]\b", text):
        return f"{where} answered with a server error (HTTP 5xx)"
    if "reset" in text or "remote end closed" in text or "aborted" in text:
        return f"{where} dropped the connection"
    lines = str(error).strip().splitlines()
    first = lines[0] if lines else type(error).__name__
    return f"{where}: {mask_uri(first)[:300]}"


def retrying(call: Callable[[int], object], seconds: float) -> object:
    """`call(attempt)` until it returns, retrying transient store errors with doubling delays
    for up to `seconds`; the last error is raised once they are spent, any other at once."""
    deadline = time.monotonic() + max(seconds, 0.0)
    delay, attempt = FIRST_DELAY_SECONDS, 0
    while True:
        try:
            return call(attempt)
        except store_errors() as error:
            if not is_transient(error) or time.monotonic() + delay > deadline:
                raise
        time.sleep(delay)
        delay, attempt = min(2 * delay, LONGEST_DELAY_SECONDS), attempt + 1
