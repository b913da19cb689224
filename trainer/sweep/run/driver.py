"""The sweep driver: Ray started beside the store, the lease taken, the search run, Ray stopped."""

import signal
import sys

from trainer.config.errors import ConfigError
from trainer.config.redact import mask_uri
from trainer.sweep.context import SweepContext
from trainer.sweep.plan.searches.registry import search_named
from trainer.sweep.record.open import open_store
from trainer.sweep.record.store import LeaseLost, StoreDown
from trainer.sweep.record.store_process import ProcessBackend
from trainer.sweep.run.cluster import connect, stop_ray
from trainer.sweep.run.loop import Outcome, drive
from trainer.sweep.run.ray_tasks import warm_up_workers
from trainer.sweep.run.signals import Terminated, terminate
from trainer.sweep.run.task_data import DriverLoadedData
from trainer.sweep.uninterrupted import uninterrupted


def execute(context: SweepContext, opening: ProcessBackend | None) -> Outcome:
    """Start Ray (or attach), take the sweep's lease, run its search, stop Ray. `opening` is
    the store process started before Ray (or None where processes cannot fork, or with
    tracking=none, which records nothing): it opens the store, takes the lease and sorts
    earlier runs while Ray starts. After start, any failure ends the parent FAILED or KILLED
    with the reason, and nothing RUNNING."""
    ray_cfg = context.session["ray"]
    previous = signal.getsignal(signal.SIGTERM)
    Terminated.received = False
    warming = []  # the warm-ups' references, dropped only once Ray is stopped
    try:
        # Ray starts while the store process opens the store: each takes seconds. Nothing is
        # deleted or written, and no trial submitted, before this driver holds the lease; a
        # driver refused it stops Ray again and exits 2.
        # And the trials' datasets load in a thread meanwhile, for the workers (task_data).
        loading = DriverLoadedData(context.grid.trials)
        context.cpus = connect(ray_cfg["address"], ray_cfg["num_cpus"], ray_cfg["dashboard"])
        # After Ray's start, which installs a handler of its own that ends the process at once.
        signal.signal(signal.SIGTERM, terminate)
        shared = loading.shared()
        warming = warm_up_workers(context.grid.trials, context.cpus, shared)  # as the store opens
        context.store = open_store(context, opening)
        search = search_named(context.sweep["search"])(context)
        return drive(search, context, shared)
    except ConfigError as error:
        _abort(context.store or opening, "FAILED", str(error))
        raise
    except LeaseLost as lost:
        # Not this driver's sweep any more: its parent and what is left are the other's.
        print(f"error: {mask_uri(str(lost))}", file=sys.stderr)
        return Outcome(1, [])
    except KeyboardInterrupt:
        how = "SIGTERM" if Terminated.received else "Ctrl-C"
        _abort(context.store or opening, "KILLED", f"stopped by {how}")
        raise
    except Exception as error:
        lines = str(error).strip().splitlines()
        reason = f"{type(error).__name__}: {lines[0] if lines else ''}"
        _abort(context.store or opening, "FAILED", reason)
        print(f"error: the sweep stopped: {mask_uri(reason)}", file=sys.stderr)
        return Outcome(1, [])
    finally:
        signal.signal(signal.SIGTERM, previous)
        # The store process finishes its write in hand and Ray stops whole; a Ctrl-C meanwhile
        # acts after (cut short, Ray's stop would end the process with an error of its own).
        with uninterrupted():
            for opened in (context.store, opening):
                if opened is not None:
                    opened.close()
            stop_ray()
            del warming


def _abort(store, status: str, reason: str) -> None:
    """Best effort: the parent ends `status` with the reason (a store process still sorting
    earlier runs is waited for first; one that never leased has no parent to end)."""
    if store is None:
        return
    try:
        if isinstance(store, ProcessBackend) and not store.ready_seen and store.ready() is None:
            return
        store.abort(status, reason)
    except (StoreDown, ConfigError, RuntimeError):
        return
