"""The sweep driver: resume from MLflow, run the rest on Ray, log each trial exactly once."""

import signal
import time
from collections.abc import Callable

import ray
from tqdm import tqdm

from trainer.naming import run_name
from trainer.result import DIVERGED, FAILED
from trainer.sweep.grid import Grid
from trainer.sweep.runner import RayTrials, connect
from trainer.sweep.spool import Spool, spool_path
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
    grid: Grid, session: dict, uri: str, resume: Callable[[], set[str] | None], started: float
) -> int:
    """Start Ray (or attach), run the sweep, stop Ray; `resume` is resume_in_background's."""
    ray_cfg = session["ray"]
    cpus = connect(ray_cfg["address"], ray_cfg["num_cpus"])
    try:
        return sweep(grid, session, uri, cpus, resume(), started)
    finally:
        ray.shutdown()


def sweep(
    grid: Grid, session: dict, uri: str, cpus: int, finished: set[str] | None, started: float
) -> int:
    """Submit what is left to Ray, log results as they come, and write the parent's summary."""
    sweep_cfg, experiment = session["sweep"], session["tracking"]["experiment"]
    store = None
    if finished is None:
        store = open_store(uri, experiment, grid, sweep_cfg["name"])
        finished = set(store.finished)
    spooled_ids = {result.trial_id for result in Spool(spool_path(uri, grid.sweep_id)).load()}
    done = finished | spooled_ids
    todo = [t for t in grid.trials if t.trial_id not in done]
    # Submit first: the workers start while the driver opens its own MLflow client.
    runner = RayTrials(todo, cpus, sweep_cfg["trials_per_task"])
    if store is None:
        store = open_store(uri, experiment, grid, sweep_cfg["name"])
    names = {t.trial_id: run_name(t.config, grid.axes) for t in grid.trials}
    rows, spooled = store.replay_spool(names)

    print(
        f"sweep {sweep_cfg['name']}: {len(grid.trials)} trials, {len(done)} already "
        f"done, {len(todo)} to run on {cpus} CPUs; tracking {uri}"
    )

    bar = tqdm(
        total=len(grid.trials),
        initial=len(grid.trials) - len(todo),
        unit="trial",
        desc="trials",
        dynamic_ncols=True,
    )
    tally = {DIVERGED: 0, FAILED: 0}
    with Interrupt() as interrupt, bar:
        for results in runner.results():
            for result in results:
                name = names[result.trial_id]
                if not store.log(result, name):
                    spooled += 1
                rows.append(Row.from_result(result, name))
                tally[result.outcome] = tally.get(result.outcome, 0) + 1
                bar.set_postfix(diverged=tally[DIVERGED], failed=tally[FAILED], refresh=False)
                bar.update(1)
            if interrupt.requested:
                runner.cancel()
                break

    if store.down is not None:
        print(
            f"error: {spooled} results could not be logged to {uri} "
            f"({str(store.down).splitlines()[0]}); they are kept in {store.spool.path}. "
            "Run the same command again when the tracking server is back to log them."
        )
        return 1
    if interrupt.requested:
        store.client.set_terminated(store.parent_id, "KILLED")
        print(
            f"interrupted: {len(rows) + len(store.finished)} of {len(grid.trials)} trials are "
            "logged; run the same command again to finish the rest."
        )
        return 130

    rows += store.earlier_rows()
    elapsed = time.perf_counter() - started
    store.finish(rows, elapsed, cpus)
    print(table(rows, elapsed, cpus))
    print(f"logging to MLflow took {store.logging_seconds:.1f} s of the {elapsed:.1f} s")
    print(f"parent run {store.parent_id}; open the dashboard with:")
    print(f"  mlflow ui --backend-store-uri {uri}" if uri.startswith("sqlite") else f"  {uri}")
    return 0


def open_store(uri: str, experiment: str, grid: Grid, sweep_name: str):
    from trainer.sweep.store import SweepStore  # MLflow's import: seconds, so only when needed

    return SweepStore(uri, experiment, grid, sweep_name)
