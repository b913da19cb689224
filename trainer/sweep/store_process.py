"""The sweep's tracking store in a forked child process, so MLflow's costs run on another core.

Opening a store costs seconds of CPU (MLflow's import; a new sqlite store's schema migrations),
and writing each trial costs tens of milliseconds. A child forked before Ray starts does all of
it: it opens the store while this process starts Ray, then writes each result it is sent. A
thread would not do: it would hold up Ray's start on the GIL.
"""

import functools
import multiprocessing
import signal
import traceback

from trainer.config import ConfigError
from trainer.sweep.grid import Grid
from trainer.sweep.store_protocol import SpoolFallback, StoreDown


def open_in_background(
    uri: str, experiment: str, grid: Grid, sweep_name: str
) -> "StoreProcess | None":
    """Start the store process, or None where processes cannot fork (the driver then opens the
    store in process)."""
    if "fork" not in multiprocessing.get_all_start_methods():
        return None
    return StoreProcess(uri, experiment, grid, sweep_name)


class StoreLost(StoreDown):
    """The store process ended without answering."""


class StoreProcess(SpoolFallback):
    """A SweepStore in a child process: every Store method but the spool fallback's runs there.

    Each call waits for its answer, so results are logged in order and exactly as in-process.
    The fallback stays here: if the store cannot take a result, or the child dies, what it has
    not confirmed is kept in the local spool, for the next run of the same command to log.
    """

    def __init__(self, uri: str, experiment: str, grid: Grid, sweep_name: str):
        super().__init__(uri, grid.sweep_id)
        self.uri = uri
        self.lost: StoreLost | None = None
        context = multiprocessing.get_context("fork")
        self._conn, child_end = context.Pipe()
        # A daemon only so that a driver dying in between cannot hang on it at exit: close()
        # always lets it finish its write first.
        self._child = context.Process(
            target=_serve,
            args=(child_end, self._conn, uri, experiment, grid, sweep_name),
            daemon=True,
        )
        self._child.start()
        child_end.close()
        self.finished: set[str] = set()

    def ready(self) -> "StoreProcess | None":
        """Wait until the store is open; None if the child died first (the driver then opens
        the store itself). If MLflow refused the store, raise ConfigError with its words."""
        try:
            status, value = self._conn.recv()
        except (EOFError, OSError):
            self.close()
            return None
        if status == "error":
            self.close()
            raise ConfigError(f"tracking.uri={self.uri}: MLflow cannot open it ({value})")
        self.finished = value
        return self

    def __getattr__(self, method: str):
        """`write`, `write_many`, `progress`, `mark_killed`, `earlier_rows`, `finish`:
        SweepStore's, run in the child."""
        if method.startswith("_"):
            raise AttributeError(method)
        return functools.partial(self._call, method)

    def _call(self, method: str, *args):
        if self.lost is not None:
            raise StoreLost(self.lost)
        try:
            self._conn.send((method, args))
            status, value = self._conn.recv()
        except (EOFError, OSError) as error:
            self.lost = StoreLost(f"the tracking store's process ended ({error!r})")
            raise self.lost from None
        if status == "down":
            raise StoreDown(value)
        if status == "error":
            raise RuntimeError(f"the tracking store's process failed in {method}:\n{value}")
        return value

    def close(self) -> None:
        """Let the child finish the write in hand and end; it is never cut off mid-write."""
        self._conn.close()
        self._child.join()


def _serve(conn, driver_end, uri: str, experiment: str, grid: Grid, sweep_name: str) -> None:
    # The fork copied the driver's end too: close it, so the driver closing its own is seen here.
    driver_end.close()
    # Ctrl-C is the driver's to handle; this child finishes what it is asked, then exits.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    from trainer.sweep.store import SweepStore

    try:
        store = SweepStore(uri, experiment, grid, sweep_name)
    except Exception as error:
        text = str(error).strip()
        conn.send(("error", text.splitlines()[0] if text else repr(error)))
        return
    conn.send(("ok", set(store.finished)))
    while True:
        try:
            method, args = conn.recv()
        except (EOFError, OSError):
            return  # the driver is done, or gone
        try:
            answer = ("ok", getattr(store, method)(*args))
        except StoreDown as error:
            answer = ("down", str(error))
        except Exception:
            answer = ("error", traceback.format_exc())
        try:
            conn.send(answer)
        except OSError:
            return  # the driver stopped waiting (a second Ctrl-C); what was asked is written
