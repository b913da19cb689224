"""`sweep.search=boundary`: each point's critical learning rate, bisected round by round.

The points are the grid of every other axis; the bisection (bisection.py) proposes learning rates
for them, each an ordinary trial whose child run carries its round and bracket as tags.
"""

from trainer.config.compose import trial_id
from trainer.sweep.plan.grid import Grid, Trial, expand_without
from trainer.sweep.plan.search import Proposal, Search
from trainer.sweep.plan.searches.bisection import BoundarySearch, Probe, Settings, rounded
from trainer.sweep.record.rows import Row
from trainer.sweep.record.store import ParentSummary
from trainer.tracking.naming import run_name

LR = "optimizer.lr"


class EdgeOfStabilitySearch(Search):
    """All points advance together: a round is one batch, every unfinished point's probes."""

    name = "boundary"

    @classmethod
    def expand(cls, sweep_cfg: dict, trial_args: list[str], config_loader) -> Grid:
        """Every point of the other axes (lr at sweep.boundary.low, to check the configs),
        whose lr the search will choose."""
        settings = Settings.from_config(sweep_cfg["boundary"])
        why = (
            f"sweep.search=boundary searches {LR} itself; set its bracket with "
            "sweep.boundary.low and sweep.boundary.high"
        )
        grid = expand_without(LR, str(settings.low), sweep_cfg, trial_args, config_loader, why)
        points, fixed = grid.trials, grid.fixed
        # The search's settings are part of the sweep's identity (its parent run), the round
        # cap not: a capped run and the full one are the same search.
        fixed["sweep.search"] = "boundary"
        for key in ("low", "high", "rtol", "max_decades", "probes"):
            fixed[f"sweep.boundary.{key}"] = str(getattr(settings, key))
        return Grid(points, grid.axes, fixed)

    def __init__(self, context):
        super().__init__(context)
        self.settings = Settings.from_config(context.sweep["boundary"])
        self.search = BoundarySearch(len(context.grid.trials), self.settings, context.cpus)
        self.keys = [LR, *context.grid.axes]
        self.probes: dict[str, Probe] = {}  # this round's, by trial id
        self.outcomes: dict[Probe, str] = {}
        self.reused = self.trained = 0
        self.round_trained = 0
        self.finished_round: str | None = None

    def propose(self, free: int) -> list[Proposal]:
        if len(self.outcomes) < len(self.probes):
            return []  # the round is still out: its outcomes decide the next
        self.probes, self.outcomes, self.round_trained = {}, {}, 0
        proposals = []
        for probe in self.search.propose():
            trial = probe_trial(self.context.grid.trials[probe.point], probe.lr)
            self.probes[trial.trial_id] = probe
            proposals.append(Proposal(trial, run_name(trial.config, self.keys), tags(probe)))
        return proposals

    def tell(self, proposal: Proposal, row: Row, trained: bool) -> None:
        self.outcomes[self.probes[proposal.trial_id]] = row.outcome
        self.round_trained += trained
        if len(self.outcomes) == len(self.probes):
            self._end_round()

    def _end_round(self) -> None:
        """Every probe of the round is in: the brackets move."""
        self.search.record(self.outcomes)
        self.trained += self.round_trained
        self.reused += len(self.probes) - self.round_trained
        left = sum(not point.done for point in self.search.points)
        self.finished_round = (
            f"round {self.search.round}: {len(self.probes)} probes ({self.round_trained} "
            f"trained), {left} of {len(self.search.points)} points still searching"
        )

    def message(self) -> str | None:
        line, self.finished_round = self.finished_round, None
        return line

    def announce(self, done: int, todo: int) -> str:
        context, settings = self.context, self.settings
        return (
            f"sweep {context.name}: boundary search over {LR} for {len(context.grid.trials)} "
            f"points, bracket [{settings.low:g}, {settings.high:g}], rtol {settings.rtol:g}, on "
            f"{context.cpus} CPUs; tracking {context.tracking_label}"
        )

    def progress(self) -> str:
        return (
            f"in round {self.search.round}: {self.trained} probes trained, {self.reused} read back"
        )

    def unfinished(self) -> str | None:
        if not self.search.capped:
            return None
        return f"stopped at sweep.boundary.max_rounds after round {self.search.round}"

    def summarise(self, rows: list[Row], elapsed: float) -> tuple[str, ParentSummary]:
        from trainer.sweep.report.parent_files import boundary_summary
        from trainer.sweep.report.searches.boundary_table import boundary_table, point_reports

        context = self.context
        reports = point_reports(context.grid, self.search.points)
        text = boundary_table(reports, self.reused, elapsed, context.cpus)
        if context.uri is None:  # tracking=none: no parent run to carry its figure
            return text, ParentSummary()
        return text, boundary_summary(reports, text, title(context.grid))


def probe_trial(point: Trial, lr: float) -> Trial:
    """The point's trial at learning rate `lr`: an ordinary trial, its id the hash of its config."""
    config = {**point.config, "optimizer": {**point.config["optimizer"], "lr": rounded(lr)}}
    return Trial(trial_id(config), config, [*point.point, f"{LR}={rounded(lr)}"])


def tags(probe: Probe) -> dict[str, str]:
    """The round and bracket that asked for a probe, on its child run."""
    return {
        "boundary.round": str(probe.round),
        "boundary.low": repr(probe.low),
        "boundary.high": repr(probe.high),
    }


def title(grid: Grid) -> str:
    first = grid.trials[0].config
    trainer = first["trainer"]
    return (
        f"critical lr on {first['task'].get('name', '')}: largest that trains, smallest that "
        f"diverges\n(bar: final bracket) within {trainer['steps']} steps, divergence at "
        f"{trainer['divergence']['factor']:g} x initial loss"
    )
