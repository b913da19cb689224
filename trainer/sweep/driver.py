"""The sweep driver: resume from MLflow, run the rest on Ray, log each trial exactly once."""

import signal
import time

import ray
from tqdm import tqdm

from trainer.naming import run_name
from trainer.result import DIVERGED, FAILED
from trainer.sweep.grid import Grid
from trainer.sweep.ranking import choose_ranking
from trainer.sweep.runner import RayTrials, connect
from trainer.sweep.store_process import StoreProcess
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
    grid: Grid, session: dict, uri: str, opening: StoreProcess | None, started: float
) -> int:
    """Start Ray (or attach), run the sweep, stop Ray. `opening` is a StoreProcess started
    before Ray (or None where processes cannot fork): the store opens while Ray starts."""
    ray_cfg, sweep_cfg = session["ray"], session["sweep"]
    store = None
    try:
        cpus = connect(ray_cfg["address"], ray_cfg["num_cpus"])
        store = opening.ready() if opening is not None else None
        if store is None:
            store = open_in_process(uri, session["tracking"]["experiment"], grid, sweep_cfg["name"])
        return sweep(grid, sweep_cfg, uri, cpus, store, started)
    finally:
        for opened in (store, opening):
            if opened is not None:
                opened.close()
        ray.shutdown()


def open_in_process(uri: str, experiment: str, grid: Grid, sweep_name: str):
    from trainer.sweep.store import SweepStore  # MLflow's import: seconds, so only when needed

    return SweepStore(uri, experiment, grid, sweep_name)


def sweep(grid: Grid, sweep_cfg: dict, uri: str, cpus: int, store, started: float) -> int:
    """Submit what is left to Ray, log results as they come, and write the parent's summary."""
    spooled_ids = {result.trial_id for result in store.spool.load()}
    done = set(store.finished) | spooled_ids
    todo = [t for t in grid.trials if t.trial_id not in done]
    runner = RayTrials(todo, cpus, sweep_cfg["trials_per_task"])
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

    down, _, _ = store.status()
    if down is not None:
        print(
            f"error: {spooled} results could not be logged to {uri} "
            f"({down.splitlines()[0]}); they are kept in {store.spool.path}. "
            "Run the same command again when the tracking server is back to log them."
        )
        return 1
    if interrupt.requested:
        store.mark_killed()
        print(
            f"interrupted: {len(rows) + len(store.finished)} of {len(grid.trials)} trials are "
            "logged; run the same command again to finish the rest."
        )
        return 130

    rows += store.earlier_rows()
    elapsed = time.perf_counter() - started
    ranking = choose_ranking(sweep_cfg, grid)
    store.finish(rows, elapsed, cpus, ranking)
    _, logging_seconds, parent_id = store.status()
    print(table(rows, elapsed, cpus, ranking))
    print(f"logging to MLflow took {logging_seconds:.1f} s of the {elapsed:.1f} s")
    print(f"parent run {parent_id}; open the dashboard with:")
    print(f"  mlflow ui --backend-store-uri {uri}" if uri.startswith("sqlite") else f"  {uri}")
    return 0
