"""Results logged in slices while the workers train on; the last ones while the summary is drawn."""

import threading
import time
from collections.abc import Callable

from trainer.sweep.context import SweepContext
from trainer.sweep.plan.search import Proposal, Search
from trainer.training.result import Result


def record(store, pairs: list[tuple[Result, Proposal]], progress) -> None:
    """Log results as child runs, in one call to the store; their rows join the sweep's."""
    if pairs:
        results, proposals = zip(*pairs, strict=True)
        store.log_many(list(results), [p.name for p in proposals], [p.tags for p in proposals])
        progress.rows += [progress.known[p.trial_id] for p in proposals]


def log_slices(store, pairs: list, progress, stop: Callable[[], bool]) -> list:
    """Log (result, proposal) pairs in a few calls (Batcher) until `stop()`; those not logged."""
    for some in progress.batcher.slices(pairs):
        record(store, some, progress)
        pairs = pairs[len(some) :]
        if stop():
            break
    return pairs


def summarised_while_logging(search: Search, context: SweepContext, progress, pairs):
    """The last results logged by a thread, which has the store to itself until it ends, while
    this one draws the summary from every row: (text, summary, earlier runs' rows, elapsed). An
    error the thread meets is raised here; a Ctrl-C here stops it after the call in hand."""
    store = context.store
    earlier = store.earlier_rows(True)  # before the thread takes the store
    rows = progress.rows + [progress.known[p.trial_id] for _, p in pairs] + earlier
    stop, failed = threading.Event(), []

    def log() -> None:
        try:
            log_slices(store, pairs, progress, stop.is_set)
        except BaseException as error:  # LeaseLost, say: the driver's to handle
            failed.append(error)

    writer = threading.Thread(target=log, name="log-last-results")
    writer.start()
    try:
        elapsed = time.perf_counter() - context.started
        text, summary = search.summarise(rows, elapsed)
        writer.join()
    finally:
        if writer.is_alive():  # an error or a Ctrl-C here: it stops after the call in hand
            stop.set()
            writer.join()
    if failed:
        raise failed[0]
    return text, summary, earlier, elapsed
