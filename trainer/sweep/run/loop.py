"""The loop that runs any search: proposals answered from the record or trained on Ray, results
logged exactly once and told back, then the search's summary on the parent run."""

import sys
import threading
import time
from dataclasses import dataclass, field, replace

from tqdm import tqdm

from trainer import contract
from trainer.sweep.context import SweepContext
from trainer.sweep.plan.grid import Trial
from trainer.sweep.plan.search import Proposal, Search
from trainer.sweep.record.rows import Row
from trainer.sweep.record.store import StoreDown
from trainer.sweep.run.batching import Batcher
from trainer.sweep.run.cluster import stop_ray_in_background
from trainer.sweep.run.logged import log_slices, record, summarised_while_logging
from trainer.sweep.run.ray_tasks import RayTrials
from trainer.sweep.run.signals import Interrupt
from trainer.training.result import DIVERGED, FAILED, Result


@dataclass
class Outcome:
    """How a sweep ended: its exit code (0 done, 1 results spooled or the sweep failed, 130
    interrupted), where its parent run is, and a row per trial (all of them once it is done)."""

    code: int
    rows: list[Row]
    parent_run_id: str | None = None
    experiment_id: str | None = None


@dataclass
class Progress:
    """What this invocation did: a row per trial it logged (or spooled), and the search's rows
    read back from earlier invocations."""

    rows: list[Row] = field(default_factory=list)
    known: dict[str, Row] = field(default_factory=dict)
    interrupted: bool = False
    tally: dict[str, int] = field(default_factory=lambda: {DIVERGED: 0, FAILED: 0})
    batcher: Batcher = field(default_factory=Batcher)
    # Provisional results (a rung of a longer trial), by trial id, until the search says the
    # trial stopped there (then recorded) or a later rung resumes it.
    held: dict[str, tuple[Proposal, Result]] = field(default_factory=dict)


def drive(search: Search, context: SweepContext, shared: list = ()) -> Outcome:
    """Ask the search for as many trials as there are free CPUs, again whenever results come
    in: proposals that earlier invocations finished (or spooled) are told from their rows, the
    rest trained on Ray (with `shared`, the task data the driver loaded). A wait's results are
    told to the search at once, and logged while the workers train the trials it proposes next,
    until more results come in (told, and new trials proposed, at once); the last ones while
    the summary is drawn. The first Ctrl-C stops the training; the results in hand are still
    logged (README: "Ctrl-C keeps what is trained")."""
    store = context.store
    if store.superseded:
        print(
            f"code changed: {store.superseded} trials logged by other code are trained again "
            f"as new runs; the old runs stay in MLflow tagged {contract.SUPERSEDED}=true"
        )
    progress = Progress(known=dict(store.finished))
    spooled = {e.trial_id: e for e in store.spool.entries() if e.trial_id not in progress.known}
    # Per-trial figures only where each trial gets a run of its own to carry them.
    draw = context.uri is not None and context.tracking.get("children", True)
    runner = RayTrials(
        context.cpus, context.sweep["trials_per_task"], context.sweep["vectorize"], draw, shared
    )
    pending: dict[str, Proposal] = {}
    twins: dict[str, list[Proposal]] = {}  # proposed again while in flight: told with it
    unlogged: list[tuple[Result, Proposal]] = []  # told to the search, not logged yet
    bar = tqdm(total=search.budget, unit="trial", desc="trials", dynamic_ncols=True)
    with Interrupt() as interrupt, bar:
        first = True
        while not interrupt.requested:
            batch = search.propose(max(context.cpus - len(pending), 0))
            todo = split(batch, progress, spooled, pending, twins)
            runner.submit([to_train(p, progress.held) for p in todo])
            if first:
                print(search.announce(len(batch) - len(todo), len(todo)))
                if context.uri is not None:
                    import_the_report_meanwhile()
                first = False
            if pending:  # logged while the workers train, until a Ctrl-C or more results come in
                unlogged = log_slices(
                    store, unlogged, progress, lambda: interrupt.requested or runner.any_finished()
                )
            # Spooled and earlier results are told while the workers start on the rest.
            recover(batch, spooled, store, progress)
            for proposal in batch:
                if proposal.trial_id in progress.known:
                    search.tell(proposal, progress.known[proposal.trial_id], trained=False)
                    bar.update(1)
            record_stopped(search, store, progress)
            say(search.message())
            if not pending:
                if batch:
                    continue  # all answered from the record: ask again
                break
            if interrupt.requested:
                break  # a Ctrl-C while logging: what trains on is not waited for
            unlogged += tell(runner.wait(), pending, twins, search, progress, bar)
    progress.interrupted = interrupt.requested
    runner.cancel()
    # Ray is done with: it stops (about a second and a half) while the store writes the summary.
    stop_ray_in_background()
    return conclude(search, context, progress, unlogged)


def import_the_report_meanwhile() -> None:
    """The parent's figures need matplotlib and Optuna's fANOVA, seconds of imports: a thread
    imports them while the workers train, rather than the driver after they are done."""

    def load() -> None:
        try:
            import optuna.importance  # noqa: F401

            import trainer.sweep.report.parent_files  # noqa: F401
            from trainer.plots import to_png  # noqa: F401
        except Exception:
            return  # imported again, and any error raised, where the summary needs them

    threading.Thread(target=load, name="report-imports", daemon=True).start()


def split(batch, progress: Progress, spooled: dict, pending: dict, twins: dict) -> list:
    """The proposals to train now, added to `pending`; the others are answered by an earlier
    run or the spool, or are twins of a trial in flight (told with it)."""
    todo = []
    for proposal in batch:
        trial_id = proposal.trial_id
        if trial_id in progress.known or trial_id in spooled:
            continue
        if trial_id in pending:
            twins.setdefault(trial_id, []).append(proposal)
        else:
            pending[trial_id] = proposal
            todo.append(proposal)
    return todo


def to_train(proposal: Proposal, held: dict) -> Trial:
    """The trial as the worker gets it: resumed from the held rung it continues (trained from
    the start if that rung is not in hand), keeping its state if it is provisional itself."""
    earlier = held.pop(proposal.resume, None) if proposal.resume else None
    checkpoint = earlier[1].checkpoint if earlier is not None else None
    return replace(proposal.trial, resume=checkpoint, keep=proposal.provisional)


def record_stopped(search: Search, store, progress: Progress) -> None:
    """Record the provisional trials the search says stopped (those read back from an earlier
    run are recorded already)."""
    stopped = [progress.held.pop(t) for t in search.stopped() if t in progress.held]
    record(store, [(result, proposal) for proposal, result in stopped], progress)


def say(line: str | None) -> None:
    if line:
        tqdm.write(line, file=sys.stdout)


def recover(batch: list[Proposal], spooled: dict, store, progress: Progress) -> None:
    """Log the proposals an earlier invocation trained but could not log (the spool), under
    this batch's names and tags; their rows become known."""
    found = [(spooled.pop(p.trial_id).result, p) for p in batch if p.trial_id in spooled]
    for result, proposal in found:
        progress.known[proposal.trial_id] = Row.from_result(result, proposal.name)
    record(store, found, progress)


def tell(results, pending, twins, search, progress: Progress, bar) -> list:
    """Each result told to the search (and to each twin proposed while it was in flight) and
    counted on the progress bar; the (result, proposal) pairs to log, in order (a provisional
    rung is held instead, until the search says it stopped or a later rung resumes it)."""
    tally, to_log = progress.tally, []
    for result in results:
        proposal = pending.pop(result.trial_id)
        row = Row.from_result(result, proposal.name)
        progress.known[proposal.trial_id] = row
        if proposal.provisional:
            progress.held[proposal.trial_id] = (proposal, result)
        else:
            to_log.append((result, proposal))
        search.tell(proposal, row, trained=True)
        for twin in twins.pop(proposal.trial_id, []):
            search.tell(twin, row, trained=False)
        tally[result.outcome] = tally.get(result.outcome, 0) + 1
        bar.set_postfix(diverged=tally[DIVERGED], failed=tally[FAILED], refresh=False)
        bar.update(1)
    if results:
        bar.refresh()  # a wait's results came at once: tqdm drew the first, not the last
        say(search.message())
    return to_log


def conclude(search: Search, context: SweepContext, progress: Progress, unlogged) -> Outcome:
    """The last results logged (while the summary is drawn, where the sweep is done), the
    store's state, the search's summary on the parent run, the closing lines; the code."""
    store, drawn = context.store, None
    finished = not progress.interrupted and not search.unfinished()
    if unlogged and finished and context.uri is not None and store.status()[0] is None:
        drawn = summarised_while_logging(search, context, progress, unlogged)
    else:
        # Trained and in hand when the sweep stopped: logged all the same (a Ctrl-C cuts it short).
        log_slices(store, unlogged, progress, lambda: False)
    rows = progress.rows
    # The store may be back: one last patient try (it also logs what an earlier run spooled).
    kept = store.drain()
    down, _, _ = store.status()
    if down is not None:
        print(
            f"error: {kept} results could not be logged: {down}; they are kept in "
            f"{store.spool.path}. Run the same command again once the store answers to log them."
        )
        abort(store, "FAILED", f"{kept} results could not be logged: {down}")
        return Outcome(1, rows)
    unfinished = search.unfinished()
    if progress.interrupted or unfinished:
        how = f"interrupted {search.progress()}" if progress.interrupted else unfinished
        why = f"interrupted by Ctrl-C {search.progress()}" if progress.interrupted else unfinished
        abort(store, "KILLED", why)
        if context.uri is None:
            print(f"{how}; tracking=none: nothing recorded")
        else:
            print(f"{how}; run the same command again to continue.")
        code = 130 if progress.interrupted else 0
        return Outcome(code, rows, store.status()[2], store.experiment())

    if drawn is not None:
        text, summary, earlier, elapsed = drawn
        rows = rows + earlier
    else:
        # A rerun that ran nothing reads no curve back: on a 10,000-trial sweep that is minutes.
        rows = rows + store.earlier_rows(bool(rows))  # read_curves
        elapsed = time.perf_counter() - context.started
        text, summary = search.summarise(rows, elapsed)
    store.finish(summary, elapsed)
    _, logging_seconds, parent_id = store.status()
    print(text)
    if context.uri is None:
        print("tracking=none: nothing was recorded")
        return Outcome(0, rows)
    print(f"logging to MLflow took {logging_seconds:.1f} s of the {elapsed:.1f} s")
    return Outcome(0, rows, parent_id, store.experiment())


def abort(store, status: str, reason: str) -> None:
    """Best effort: the parent ends `status` with the reason."""
    try:
        store.abort(status, reason)
    except StoreDown:
        return
