"""The boundary search's driver: each round's probes from the store if finished, else on Ray."""

import time

from trainer.sweep.plan.boundary import BoundarySearch, Probe, Settings
from trainer.sweep.plan.boundary_search import LR, probe_trial
from trainer.sweep.plan.grid import Grid, Trial
from trainer.sweep.report.boundary_table import boundary_table, point_reports
from trainer.sweep.run.driver import Interrupt, Outcome
from trainer.sweep.run.ray_tasks import RayTrials
from trainer.tracking.naming import run_name
from trainer.training.result import Result


class Round:
    """One round's probes as trials: answered by earlier runs where they can be, else trained."""

    def __init__(self, grid: Grid, probes: list[Probe]):
        self.trials = {probe: probe_trial(grid.trials[probe.point], probe.lr) for probe in probes}
        self.keys = [LR, *grid.axes]
        self.outcomes: dict[Probe, str] = {}

    def name(self, trial: Trial) -> str:
        return run_name(trial.config, self.keys)

    @staticmethod
    def tags(probe: Probe) -> dict[str, str]:
        return {
            "boundary.round": str(probe.round),
            "boundary.low": repr(probe.low),
            "boundary.high": repr(probe.high),
        }

    def answer(self, store, known: dict[str, str], spooled: dict[str, Result]) -> list[Probe]:
        """Outcomes of probes finished earlier; the probes left to train."""
        todo = []
        for probe, trial in self.trials.items():
            if trial.trial_id in known:
                self.outcomes[probe] = known[trial.trial_id]
            elif trial.trial_id in spooled:
                # Kept locally when the store was down: log it now, with this round's tags.
                result = spooled.pop(trial.trial_id)
                store.log(result, self.name(trial), self.tags(probe))
                self.outcomes[probe] = result.outcome
            else:
                todo.append(probe)
        return todo


def search_boundary(
    grid: Grid, sweep_cfg: dict, uri: str, cpus: int, store, started: float
) -> Outcome:
    """Round after round: every unfinished point's probes, as one batch of Ray tasks."""
    settings = Settings.from_config(sweep_cfg["boundary"])
    search = BoundarySearch(len(grid.trials), settings, cpus)
    known = store.outcomes()
    spooled = {r.trial_id: r for r in store.spool.load() if r.trial_id not in known}
    reused = trained = 0
    print(
        f"sweep {sweep_cfg['name']}: boundary search over {LR} for {len(grid.trials)} points, "
        f"bracket [{settings.low:g}, {settings.high:g}], rtol {settings.rtol:g}, on {cpus} CPUs; "
        f"tracking {uri}"
    )
    with Interrupt() as interrupt:
        while probes := search.propose():
            round_ = Round(grid, probes)
            todo = round_.answer(store, known, spooled)
            reused += len(probes) - len(todo)
            runner = RayTrials([round_.trials[p] for p in todo], cpus, sweep_cfg["trials_per_task"])
            by_id = {round_.trials[p].trial_id: p for p in todo}
            for results in runner.results():
                for result in results:
                    probe = by_id[result.trial_id]
                    store.log(result, round_.name(round_.trials[probe]), round_.tags(probe))
                    round_.outcomes[probe] = result.outcome
                    trained += 1
                if interrupt.requested:
                    runner.cancel()
                    break
            if interrupt.requested:
                break
            search.record(round_.outcomes)
            left = sum(not point.done for point in search.points)
            print(
                f"round {search.round}: {len(probes)} probes ({len(todo)} trained), "
                f"{left} of {len(search.points)} points still searching"
            )
    return conclude(
        grid, search, store, uri, interrupt.requested, spooled, (reused, trained), started
    )


def conclude(grid, search, store, uri, interrupted, spooled, counts, started) -> Outcome:
    """The store's state, the summary table and the parent's artifacts; the exit code."""
    reused, trained = counts
    if store.status()[0] is not None:
        store.drain()  # the store may be back: one last patient try, as a grid sweep's end
    down, _, parent_id = store.status()
    if down is not None:
        print(
            f"error: results could not be logged to {uri} ({down.splitlines()[0]}); they are "
            f"kept in {store.spool.path}. Run the same command again when the server is back."
        )
        return Outcome(1, [])
    if not spooled:
        store.spool.clear()  # everything it held is in the store now
    if interrupted or search.capped:
        why = "interrupted in" if interrupted else "stopped at sweep.boundary.max_rounds after"
        store.abort("KILLED", f"{why} round {search.round}")
        print(
            f"{why} round {search.round}: {trained} probes trained, {reused} read back; "
            "run the same command again to continue the search."
        )
        return Outcome(130 if interrupted else 0, [], parent_id, store.experiment())
    elapsed = time.perf_counter() - started
    reports = point_reports(grid, search.points)
    summary = boundary_table(reports, reused, elapsed, search.cpus)
    store.finish_boundary(reports, summary, title(grid), elapsed)
    print(summary)
    print(f"parent run {parent_id}: boundary.png and boundary.csv are its artifacts")
    return Outcome(0, [], parent_id, store.experiment())


def title(grid: Grid) -> str:
    first = grid.trials[0].config
    trainer = first["trainer"]
    return (
        f"critical lr on {first['task'].get('name', '')}: largest that trains, smallest that "
        f"diverges\n(bar: final bracket) within {trainer['steps']} steps, divergence at "
        f"{trainer['divergence']['factor']:g} x initial loss"
    )
