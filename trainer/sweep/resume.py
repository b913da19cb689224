"""Open a sweep's tracking store in a forked child process, so it is ready when Ray is."""

import multiprocessing
import signal
from collections.abc import Callable

from trainer.config import ConfigError
from trainer.sweep.grid import Grid


def resume_in_background(
    uri: str, experiment: str, grid: Grid, sweep_name: str
) -> Callable[[], set[str] | None]:
    """Open the store in a child process; a function that waits for the trial_ids it found
    already FINISHED. None if the child died before telling: the driver then opens the store
    itself first. If MLflow refused the store, the function raises ConfigError with its word.

    Opening costs seconds of CPU (MLflow's import, a new sqlite store's schema migrations).
    A forked child does it on another core while Ray starts; a thread would hold Ray's start
    up on the GIL instead. The store is left ready, with the parent run in place, for the
    driver to open again cheaply once the trials are submitted.
    """
    if "fork" not in multiprocessing.get_all_start_methods():
        return lambda: None
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_report_finished, args=(send, uri, experiment, grid, sweep_name))
    child.start()
    send.close()

    def finished() -> set[str] | None:
        try:
            found = receive.recv()
        except EOFError:
            return None
        finally:
            receive.close()
            child.join()
        if isinstance(found, str):
            raise ConfigError(f"tracking.uri={uri}: MLflow cannot open it ({found})")
        return found

    return finished


def _report_finished(send, uri: str, experiment: str, grid: Grid, sweep_name: str) -> None:
    # Ctrl-C is the driver's to handle; this child finishes what it started, then exits.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    from trainer.sweep.store import SweepStore

    try:
        send.send(set(SweepStore(uri, experiment, grid, sweep_name).finished))
    except Exception as error:
        send.send(str(error).strip().splitlines()[0] if str(error).strip() else repr(error))
