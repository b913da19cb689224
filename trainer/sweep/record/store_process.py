"""The sweep's Backend in a forked child process, so MLflow's costs run on another core.

Opening a store costs seconds of CPU (MLflow's import; a new sqlite store's schema migrations),
and writing each trial costs tens of milliseconds. A child forked before Ray starts does all of
it: it opens the store while this process starts Ray, then writes each result it is sent. A
thread would not do: it would hold up Ray's start on the GIL.
"""

import abc
import multiprocessing
import os
import pickle
import signal
import sys
import threading
import traceback

from trainer.config.errors import ConfigError
from trainer.config.redact import mask_uri
from trainer.sweep.background import at_low_priority
from trainer.sweep.context import SweepContext
from trainer.sweep.record.store import Backend, LeaseLost, StoreDown

# An early child is sent its sweep at most this large: what the pipe holds while it imports, so
# the driver never waits on it (a larger grid's store process is forked with the grid instead).
SEND_AT_ONCE = 128 * 1024


def forwarded(interface: type):
    """A class decorator: each abstract method of `interface` the class does not define itself
    becomes a call of the same name, with the same arguments, in the child process."""

    def forwarder(name: str):
        def call(self, *args):
            return self._call(name, *args)

        call.__name__, call.__qualname__ = name, f"{interface.__name__}.{name}"
        call.__doc__ = getattr(interface, name).__doc__
        return call

    def decorate(cls):
        for name in interface.__abstractmethods__:
            if name not in cls.__dict__:
                setattr(cls, name, forwarder(name))
        return abc.update_abstractmethods(cls)

    return decorate


def open_in_background(
    context: SweepContext, early: "ProcessBackend | None" = None
) -> "ProcessBackend | None":
    """Start the store process (or hand the sweep to `early`, one started before the sweep was
    composed), or None where processes cannot fork (the driver then opens it in process)."""
    if early is not None and early.begin(context):
        return early
    if "fork" not in multiprocessing.get_all_start_methods():
        return None
    return ProcessBackend(context)


def start_early() -> "ProcessBackend | None":
    """A store process forked before the sweep is composed: it imports MLflow while Hydra
    composes, then waits for the sweep (`open_in_background`), or is ended unused (`discard`):
    it writes nothing before. None where processes cannot fork."""
    if "fork" not in multiprocessing.get_all_start_methods():
        return None
    return ProcessBackend(None)


class StoreLost(StoreDown):
    """The store process ended without answering."""


@forwarded(Backend)
class ProcessBackend(Backend):
    """An MLflow backend (record/mlflow/) in a child process: every Backend method but `close`
    runs there.

    Each call waits for its answer, so results are logged in order and exactly as in-process.
    The spool stays in the driver (SpooledStore): if the store cannot take a result, or the
    child dies, what it has not confirmed is kept there, for the next run of the command to log.
    """

    def __init__(self, context: SweepContext | None):
        """Fork the child; it opens `context`'s store, or with None waits to be told `begin`."""
        self.uri = context.uri if context is not None else None
        self.finished = {}
        self.lost: StoreLost | None = None
        self.superseded = 0
        self.ready_seen = self._leased = False
        self._awaiting = False  # a call's answer not read yet (the driver was interrupted)
        # One call at a time: the driver's last results are logged by a thread of its own.
        self._calling = threading.Lock()
        forking = multiprocessing.get_context("fork")
        self._conn, child_end = forking.Pipe()
        opening = (context, os.getpid()) if context is not None else None
        self._begun = context is not None
        # A daemon only so that a driver dying in between cannot hang on it at exit: close()
        # always lets it finish its write first.
        self._child = forking.Process(
            target=_serve, args=(child_end, self._conn, opening), daemon=True
        )
        self._child.start()
        child_end.close()

    def begin(self, context: SweepContext) -> bool:
        """Send an early child its sweep; False (the child ended) if it cannot take it: begun,
        gone, or a sweep too large to send without waiting for the child's imports, or one
        pickle cannot send (a fork copies it instead)."""
        if self._begun or not self._child.is_alive():
            return False
        try:
            opening = pickle.dumps((context, os.getpid()))
        except Exception:  # a config holding what pickle cannot send: forked with it instead
            opening = None
        if opening is None or len(opening) > SEND_AT_ONCE:
            self.discard()
            return False
        try:
            self._conn.send_bytes(opening)
        except OSError:
            return False
        self.uri, self._begun = context.uri, True
        return True

    def discard(self) -> None:
        """End an early child never given a sweep: it has only imported, and writes nothing."""
        if not self._begun:
            self._begun = True
            self._conn.close()
            self._child.terminate()
            self._child.join()

    def _opening_answer(self):
        """The child's next message while opening; None if it died first."""
        try:
            status, value = self._conn.recv()
        except (EOFError, OSError):
            self.close()
            return None
        if status == "error":
            self.close()
            raise ConfigError(mask_uri(f"tracking.uri={self.uri}: {value}"))
        if status == "held":
            self.close()
            raise ConfigError(mask_uri(value))
        return value

    def leased(self) -> "ProcessBackend | None":
        """Wait until the store is open and this driver holds the sweep's lease; None if the
        child died first (the driver then opens the store itself). ConfigError in one line if
        MLflow refused the store, or another driver holds the sweep."""
        if not self._leased:
            self._leased = self._opening_answer() is not None
        return self if self._leased else None

    def ready(self) -> "ProcessBackend | None":
        """Wait until the children of earlier invocations are sorted (ParentRunBackend.resume)."""
        if self.leased() is None:
            return None
        answer = self._opening_answer()
        if answer is None:
            return None
        self.finished, self.superseded = answer
        self.ready_seen = True
        return self

    def _call(self, method: str, *args):
        with self._calling:
            return self._call_now(method, *args)

    def _call_now(self, method: str, *args):
        if self.lost is not None:
            raise StoreLost(self.lost)
        try:
            if self._awaiting:
                self._conn.recv()  # the answer to a call the driver stopped waiting for
            self._awaiting = True
            self._conn.send((method, args))
            status, value = self._conn.recv()
            self._awaiting = False
        except (EOFError, OSError) as error:
            self.lost = StoreLost(f"the tracking store's process ended ({error!r})")
            raise self.lost from None
        if status == "down":
            raise StoreDown(value)
        if status == "lost":
            raise LeaseLost(value)
        if status == "error":
            raise RuntimeError(f"the tracking store's process failed in {method}:\n{value}")
        return value

    def close(self) -> None:
        """Let the child finish the write in hand, give the lease up and end; it is never cut
        off mid-write."""
        self._conn.close()
        self._child.join()


def _serve(conn, driver_end, opening: tuple) -> None:
    # The fork copied the driver's end too: close it, so the driver closing its own is seen here.
    driver_end.close()
    # Ctrl-C is the driver's to handle; this child finishes what it is asked, then exits.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # A caller's own SIGTERM handler is not this child's: an early one unused is ended by it.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _own_connections()
    try:
        if opening is None:  # started early: import while the driver composes the sweep
            at_low_priority(_import_mlflow)  # and while Ray starts (background.py)
            opening = pickle.loads(conn.recv_bytes())
        store = _open(conn, opening)
        if store is None:
            return
        try:
            _answer_calls(conn, store)
        finally:
            store.close()
    except (EOFError, OSError, KeyboardInterrupt):
        return  # the driver went away: nothing to tell it


def _import_mlflow() -> None:
    """What opening any store imports: the backends, MLflow, and its SQL store (most stores)."""
    import mlflow.store.tracking.sqlalchemy_store  # noqa: F401

    import trainer.sweep.record.mlflow.opening  # noqa: F401


def _own_connections() -> None:
    """Database connections the driver's process opened before the fork (MLflow keeps one
    engine per database, for the process: a notebook that loaded a sweep first) stay the
    driver's: this child opens its own, or the two would talk over one socket."""
    sql = sys.modules.get("mlflow.store.tracking.sqlalchemy_store")
    if sql is not None:
        for engine in list(getattr(sql.SqlAlchemyStore, "_engine_map", {}).values()):
            engine.dispose(close=False)


def _open(conn, opening: tuple):
    """The store, opened and resumed under the lease, each step reported; None if refused."""
    from trainer.sweep.record.lease import LeaseHeld
    from trainer.sweep.record.mlflow.opening import backend_class, resumed

    context, driver_pid = opening
    try:
        store = backend_class(context)(context, driver_pid)
    except LeaseHeld as error:
        conn.send(("held", str(error)))
        return None
    except Exception as error:
        conn.send(("error", f"MLflow cannot open it ({_first_line(error)})"))
        return None
    try:
        conn.send(("ok", "leased"))
        try:
            resumed(store)
            conn.send(("ok", (store.finished, store.superseded)))
        except Exception as error:
            conn.send(("error", _first_line(error)))
            store.close()
            return None
    except OSError:  # the driver went away while the store opened: the sweep ends here
        store.close()
        return None
    return store


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else repr(error)


def _answer_calls(conn, store) -> None:
    while True:
        try:
            method, args = conn.recv()
        except (EOFError, OSError):
            return  # the driver is done, or gone
        try:
            if method not in Backend.__abstractmethods__:
                raise AttributeError(f"{method} is not a method of the Backend interface")
            answer = ("ok", getattr(store, method)(*args))
        except StoreDown as error:
            answer = ("down", str(error))
        except LeaseLost as error:
            answer = ("lost", str(error))
        except Exception:
            answer = ("error", traceback.format_exc())
        try:
            conn.send(answer)
        except OSError:
            return  # the driver stopped waiting (a second Ctrl-C); what was asked is written
