"""The sweep driver: resume from MLflow, run the rest on Ray, log each trial exactly once."""

import signal
import time
from dataclasses import dataclass

import ray
from tqdm import tqdm

from trainer.naming import run_name
from trainer.result import DIVERGED, FAILED
from trainer.sweep.batching import Batcher
from trainer.sweep.grid import Grid, Trial
from trainer.sweep.no_store import NoStore
from trainer.sweep.runner import RayTrials, connect
from trainer.sweep.store_process import StoreProcess
from trainer.sweep.store_protocol import Store
from trainer.sweep.summary import Row, table


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


def run_sweep(
    grid: Grid, session: dict, uri: str | None, opening: StoreProcess | None, started: float
) -> int:
    """Start Ray (or attach), run the sweep, stop Ray. `opening` is a StoreProcess started
    before Ray (or None where processes cannot fork): the store opens while Ray starts.
    With no `uri` (tracking=none) nothing is recorded."""
    ray_cfg, sweep_cfg = session["ray"], session["sweep"]
    store = None
    try:
        cpus = connect(ray_cfg["address"], ray_cfg["num_cpus"])
        store = opening.ready() if opening is not None else None
        if uri is None:
            store = NoStore()
        elif store is None:
            store = open_in_process(uri, session["tracking"]["experiment"], grid, sweep_cfg["name"])
        return sweep(grid, sweep_cfg, uri, cpus, store, started)
    finally:
        for opened in (store, opening):
            if opened is not None:
                opened.close()
        ray.shutdown()


def open_in_process(uri: str, experiment: str, grid: Grid, sweep_name: str) -> Store:
    from trainer.sweep.store import SweepStore  # MLflow's import: seconds, so only when needed

    return SweepStore(uri, experiment, grid, sweep_name)


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
) -> int:
    """Submit what is left to Ray, log results as they come, and write the parent's summary."""
    work = plan(grid, store)
    runner = RayTrials(work.todo, cpus, sweep_cfg["trials_per_task"])
    # Spooled results are logged while the workers start on the rest.
    progress = Progress(*store.replay_spool(work.names))
    print(
        f"sweep {sweep_cfg['name']}: {len(grid.trials)} trials, {work.done} already "
        f"done, {len(work.todo)} to run on {cpus} CPUs; tracking {uri or 'none'}"
    )
    run(runner, work, store, progress)
    return report(store, progress, len(grid.trials), uri, cpus, started)


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
    store: Store, progress: Progress, trials: int, uri: str | None, cpus: int, started: float
) -> int:
    """The parent's summary and the closing lines; the exit code (1: spooled, 130: interrupted)."""
    rows = progress.rows
    down, _, _ = store.status()
    if down is not None:
        print(
            f"error: {progress.spooled} results could not be logged to {uri} "
            f"({down.splitlines()[0]}); they are kept in {store.spool.path}. "
            "Run the same command again when the tracking server is back to log them."
        )
        return 1
    if progress.interrupted and uri is None:
        print(f"interrupted after {len(rows)} of {trials} trials; tracking=none: nothing recorded")
        return 130
    if progress.interrupted:
        store.mark_killed()
        print(
            f"interrupted: {len(rows) + len(store.finished)} of {trials} trials are "
            "logged; run the same command again to finish the rest."
        )
        return 130

    # A rerun that ran nothing reads no curve back: on a 10,000-trial sweep that is minutes.
    rows += store.earlier_rows(bool(rows))  # read_curves
    elapsed = time.perf_counter() - started
    store.finish(rows, elapsed, cpus)
    _, logging_seconds, parent_id = store.status()
    print(table(rows, elapsed, cpus))
    if uri is None:
        print("tracking=none: nothing was recorded")
        return 0
    print(f"logging to MLflow took {logging_seconds:.1f} s of the {elapsed:.1f} s")
    print(f"parent run {parent_id}; open the dashboard with:")
    print(f"  mlflow ui --backend-store-uri {uri}" if uri.startswith("sqlite") else f"  {uri}")
    return 0
