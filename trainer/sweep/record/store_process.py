"""The sweep's Backend in a forked child process, so MLflow's costs run on another core.

Opening a store costs seconds of CPU (MLflow's import; a new sqlite store's schema migrations),
and writing each trial costs tens of milliseconds. A child forked before Ray starts does all of
it: it opens the store while this process starts Ray, then writes each result it is sent. A
thread would not do: it would hold up Ray's start on the GIL. This is the driver's side; the
child's is store_child.py.
"""

import abc
import multiprocessing
import os
import pickle
import threading

from trainer.config.errors import ConfigError
from trainer.config.redact import mask_uri
from trainer.sweep.context import SweepContext
from trainer.sweep.record.store import Backend, LeaseLost, StoreDown
from trainer.sweep.record.store_child import serve
from trainer.sweep.uninterrupted import uninterrupted

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
        self.ready_seen = False
        self._opening = []  # the child's answers while opening: leased, then what it sorted
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
            target=serve, args=(child_end, self._conn, opening), daemon=True
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

    def _opening_answer(self) -> bool:
        """Read the child's next message while opening into `opening`; False if it died first."""
        try:
            self._conn.poll(None)
            with uninterrupted():  # read and kept together: a Ctrl-C cannot lose it between
                status, value = self._conn.recv()
                if status == "ok":
                    self._opening.append(value)
        except (EOFError, OSError):
            self.close()
            return False
        if status == "error":
            self.close()
            raise ConfigError(mask_uri(f"tracking.uri={self.uri}: {value}"))
        if status == "held":
            self.close()
            raise ConfigError(mask_uri(value))
        return True

    def leased(self) -> "ProcessBackend | None":
        """Wait until the store is open and this driver holds the sweep's lease; None if the
        child died first (the driver then opens the store itself). ConfigError in one line if
        MLflow refused the store, or another driver holds the sweep."""
        if not self._opening and not self._opening_answer():
            return None
        return self

    def ready(self) -> "ProcessBackend | None":
        """Wait until the children of earlier invocations are sorted (ParentRunBackend.resume)."""
        if self.leased() is None:
            return None
        if len(self._opening) < 2 and not self._opening_answer():
            return None
        self.finished, self.superseded = self._opening[1]
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
                self._answer()  # to a call the driver stopped waiting for (a second Ctrl-C)
            with uninterrupted():  # a message is sent whole, and then awaited
                self._conn.send((method, args))
                self._awaiting = True
            status, value = self._answer()
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

    def _answer(self):
        """The answer awaited: waiting is interruptible (a second Ctrl-C), reading it is not."""
        self._conn.poll(None)
        with uninterrupted():
            answer = self._conn.recv()
            self._awaiting = False
        return answer

    def close(self) -> None:
        """Let the child finish the write in hand, give the lease up and end; it is never cut
        off mid-write."""
        self._conn.close()
        self._child.join()
