"""The store process's side: it opens the sweep's store, then answers the driver's calls.

The driver's side, and why a process at all, is store_process.py. Opening, the child tells
("ok", "leased") and then ("ok", (finished, superseded)), or one ("held", why) or ("error", why).
Then each call is a message (method, args), answered by one message back: ("ok", value),
("down", why) for StoreDown, ("lost", why) for LeaseLost, or ("error", traceback).
"""

import pickle
import signal
import sys
import traceback

from trainer.sweep.background import at_low_priority
from trainer.sweep.record.store import Backend, LeaseLost, StoreDown


def serve(conn, driver_end, opening: tuple | None) -> None:
    """The child's life: open the store (`opening` is the sweep and the driver's pid, or None
    for an early child: import, then wait for them), answer calls until the driver closes."""
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
