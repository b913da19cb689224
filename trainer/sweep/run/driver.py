"""The sweep driver: resume from MLflow, run the rest on Ray, log each trial exactly once."""

import signal
import sys
import time
from dataclasses import dataclass

from tqdm import tqdm

from trainer import contract
from trainer.config.errors import ConfigError
from trainer.config.redact import mask_uri
from trainer.sweep.plan.grid import Grid, Trial
from trainer.sweep.plan.ranking import Ranking, choose_ranking
from trainer.sweep.record.no_store import NoStore
from trainer.sweep.record.store import LeaseLost, Store, StoreDown
from trainer.sweep.record.store_process import StoreProcess
from trainer.sweep.report.rows import Row, table
from trainer.sweep.run.batching import Batcher
from trainer.sweep.run.ray_tasks import (
    RayTrials,
    connect,
    stop_ray,
    stop_ray_in_background,
    warm_up_workers,
)
from trainer.tracking.naming import run_name
from trainer.training.result import DIVERGED, FAILED


class Interrupt:
    """The first Ctrl-C asks the sweep to stop after the result being logged; a second forces it."""

    def __enter__(self):
        self.requested = False
        self.previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, *_):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def __exit__(self, *_):
        signal.signal(signal.SIGINT, self.previous)


@dataclass
class Outcome:
    """How a sweep ended: its exit code (0 done, 1 results spooled or the sweep failed, 130
    interrupted), where its parent run is, and a row per trial (all of them once it is done)."""

    code: int
    rows: list[Row]
    parent_run_id: str | None = None
    experiment_id: str | None = None


class Terminated(KeyboardInterrupt):
    """SIGTERM: the sweep stops as after a second Ctrl-C, its parent marked KILLED."""

    # Set when SIGTERM arrives: Ray may hand the exception on as a plain KeyboardInterrupt.
    received = False


def _terminate(*_):
    Terminated.received = True
    raise Terminated


def execute(
    grid: Grid, session: dict, uri: str | None, opening: StoreProcess | None, started: float
) -> Outcome:
    """Start Ray (or attach), take the sweep's lease, run the sweep, stop Ray. `opening` is a
    StoreProcess started before Ray (or None where processes cannot fork, or with no `uri`:
    tracking=none records nothing): it opens the store, takes the lease and sorts earlier
    runs while Ray starts. `sweep.search` picks what runs the trials: `sweep` (the grid) or
    the boundary search. After start, any failure ends the parent FAILED or KILLED with the
    reason, and nothing RUNNING."""
    ray_cfg, sweep_cfg, tracking = session["ray"], session["sweep"], session["tracking"]
    store, leased = None, None
    previous = signal.getsignal(signal.SIGTERM)
    Terminated.received = False
    try:
        # Ray starts while the store process opens the store: each takes seconds. Nothing is
        # deleted or written, and no trial submitted, before this driver holds the lease; a
        # driver refused it stops Ray again and exits 2.
        cpus = connect(ray_cfg["address"], ray_cfg["num_cpus"], ray_cfg["dashboard"])
        # After Ray's start, which installs a handler of its own that ends the process at once.
        signal.signal(signal.SIGTERM, _terminate)
        warm_up_workers(grid.trials, cpus)  # while the store process opens the store
        leased = opening.leased() if opening is not None else None
        if uri is None:
            store = NoStore()  # tracking=none: nothing is recorded
        elif leased is None:
            store = open_in_process(uri, tracking, grid, sweep_cfg["name"])
        if store is None:
            store = leased.ready() or open_in_process(uri, tracking, grid, sweep_cfg["name"])
        body = sweep
        if sweep_cfg["search"] == "boundary":
            from trainer.sweep.run.boundary_loop import search_boundary  # it builds on this module

            body = search_boundary
        return body(grid, sweep_cfg, uri, cpus, store, started)
    except ConfigError as error:
        _abort(store or leased, "FAILED", str(error))
        raise
    except LeaseLost as lost:
        # Not this driver's sweep any more: its parent and what is left are the other's.
        print(f"error: {mask_uri(str(lost))}", file=sys.stderr)
        return Outcome(1, [])
    except KeyboardInterrupt:
        how = "SIGTERM" if Terminated.received else "Ctrl-C"
        _abort(store or leased, "KILLED", f"stopped by {how}")
        raise
    except Exception as error:
        lines = str(error).strip().splitlines()
        reason = f"{type(error).__name__}: {lines[0] if lines else ''}"
        _abort(store or leased, "FAILED", reason)
        print(f"error: the sweep stopped: {mask_uri(reason)}", file=sys.stderr)
        return Outcome(1, [])
    finally:
        signal.signal(signal.SIGTERM, previous)
        for opened in (store, opening):
            if opened is not None:
                opened.close()
        stop_ray()


def _abort(store: Store | StoreProcess | None, status: str, reason: str) -> None:
    """Best effort: the parent ends `status` with the reason (a store process still sorting
    earlier runs is waited for first)."""
    if store is None:
        return
    try:
        if isinstance(store, StoreProcess) and not store.ready_seen and store.ready() is None:
            return
        store.abort(status, reason)
    except (StoreDown, ConfigError, RuntimeError):
        return


def open_in_process(uri: str, tracking: dict, grid: Grid, sweep_name: str) -> Store:
    """The store opened and resumed in this process; ConfigError if another driver has it."""
    from trainer.sweep.record.lease import LeaseHeld
    from trainer.sweep.record.mlflow_store import (
        SweepStore,  # MLflow's import: seconds, so only when needed
    )

    try:
        store = SweepStore(
            uri, tracking["experiment"], grid, sweep_name, tracking.get("retry_seconds", 60.0)
        )
    except LeaseHeld as held:
        raise ConfigError(str(held)) from None
    store.resume()
    return store


@dataclass
class Plan:
    """What this invocation has to do: the trials left to run, and every trial's run name."""

    todo: list[Trial]
    names: dict[str, str]
    done: int  # trials logged or spooled by an earlier invocation


@dataclass
class Progress:
    """What this invocation did: a row per trial logged (or spooled), and how many it spooled."""

    rows: list[Row]
    spooled: int
    interrupted: bool = False


def sweep(
    grid: Grid, sweep_cfg: dict, uri: str | None, cpus: int, store: Store, started: float
) -> Outcome:
    """Submit what is left to Ray, log results as they come, and write the parent's summary."""
    work = plan(grid, store)
    runner = RayTrials(work.todo, cpus, sweep_cfg["trials_per_task"])
    if store.superseded:
        print(
            f"code changed: {store.superseded} trials logged by other code are trained again "
            f"as new runs; the old runs stay in MLflow tagged {contract.SUPERSEDED}=true"
        )
    # Spooled results are logged while the workers start on the rest.
    progress = Progress(*store.replay_spool(work.names))
    print(
        f"sweep {sweep_cfg['name']}: {len(grid.trials)} trials, {work.done} already "
        f"done, {len(work.todo)} to run on {cpus} CPUs; tracking {mask_uri(uri) if uri else 'none'}"
    )
    run(runner, work, store, progress)
    # Ray is done with: it stops (about a second and a half) while the store writes the summary.
    stop_ray_in_background()
    ranking = choose_ranking(sweep_cfg, grid)
    return report(store, progress, len(grid.trials), uri, cpus, started, ranking)


def plan(grid: Grid, store: Store) -> Plan:
    """The trials neither logged nor spooled by an earlier invocation, and every run's name."""
    done = set(store.finished) | {result.trial_id for result in store.spool.load()}
    todo = [t for t in grid.trials if t.trial_id not in done]
    names = {t.trial_id: run_name(t.config, grid.axes) for t in grid.trials}
    return Plan(todo, names, len(done))


def run(runner: RayTrials, work: Plan, store: Store, progress: Progress) -> None:
    """Log the results of each wait on Ray in a few calls to the store (Batcher), with a
    progress bar; the first Ctrl-C stops after the call in hand."""
    bar = tqdm(
        total=len(work.names),
        initial=len(work.names) - len(work.todo),
        unit="trial",
        desc="trials",
        dynamic_ncols=True,
    )
    tally = {DIVERGED: 0, FAILED: 0}
    batcher = Batcher()
    with Interrupt() as interrupt, bar:
        for results in runner.results():
            for some in batcher.slices(results):
                names = [work.names[result.trial_id] for result in some]
                progress.spooled += store.log_many(some, names)
                for result, name in zip(some, names, strict=True):
                    progress.rows.append(Row.from_result(result, name))
                    tally[result.outcome] = tally.get(result.outcome, 0) + 1
                    bar.set_postfix(diverged=tally[DIVERGED], failed=tally[FAILED], refresh=False)
                    bar.update(1)
                if interrupt.requested:
                    break
            if interrupt.requested:
                runner.cancel()
                break
    progress.interrupted = interrupt.requested


def report(
    store: Store,
    progress: Progress,
    trials: int,
    uri: str | None,
    cpus: int,
    started: float,
    ranking: Ranking,
) -> Outcome:
    """The parent's summary and the closing lines (the caller adds the dashboard's link)."""
    rows = progress.rows
    # The store may be back: one last patient try.
    kept = store.drain() if store.status()[0] is not None else 0
    down, _, _ = store.status()
    if down is not None:
        print(
            f"error: {kept} results could not be logged: {mask_uri(down)}; they are kept in "
            f"{store.spool.path}. Run the same command again once the store answers to log them."
        )
        _abort(store, "FAILED", f"{kept} results could not be logged: {down}")
        return Outcome(1, rows)
    if progress.interrupted and uri is None:
        print(f"interrupted after {len(rows)} of {trials} trials; tracking=none: nothing recorded")
        return Outcome(130, rows)
    if progress.interrupted:
        logged = len(rows) + len(store.finished)
        _abort(store, "KILLED", f"interrupted by Ctrl-C with {logged} of {trials} trials logged")
        print(
            f"interrupted: {logged} of {trials} trials are "
            "logged; run the same command again to finish the rest."
        )
        return Outcome(130, rows)

    # A rerun that ran nothing reads no curve back: on a 10,000-trial sweep that is minutes.
    rows += store.earlier_rows(bool(rows))  # read_curves
    elapsed = time.perf_counter() - started
    store.finish(rows, elapsed, cpus, ranking)
    _, logging_seconds, parent_id = store.status()
    print(table(rows, elapsed, cpus, ranking))
    if uri is None:
        print("tracking=none: nothing was recorded")
        return Outcome(0, rows)
    print(f"logging to MLflow took {logging_seconds:.1f} s of the {elapsed:.1f} s")
    return Outcome(0, rows, parent_id, store.experiment())
