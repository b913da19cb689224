"""`sweep.search=halving`: successive halving, the synchronous form of ASHA (Li et al. 2020).

`sweep.n_trials` configurations drawn from the space (as `random` draws them) all train
`sweep.halving.min_steps` steps; after each rung the best 1/eta of them by `sweep.metric` train
on, from the model and optimizer state they stopped in (not from scratch), to eta times the
steps, and so on up to `trainer.steps`. A diverged trial stops at once. Each configuration is
one child run, its curve spanning every rung it trained, tagged with the rung where it stopped;
a trial resumed is exact, so the winner's record equals a fresh run of the whole budget.
"""

import math

from trainer.config.compose import trial_id
from trainer.config.errors import ConfigError
from trainer.config.ranges import check_ranges
from trainer.config.schema import HalvingConf
from trainer.sweep.plan.grid import Grid, Trial
from trainer.sweep.plan.search import Proposal
from trainer.sweep.plan.searches.sampled_search import RandomSearch, refuse_seeds
from trainer.sweep.record.rows import Row
from trainer.tracking.naming import run_name
from trainer.training.result import CONVERGED


def rungs(budget: int, min_steps: int | None, eta: int) -> list[int]:
    """The steps each rung trains to, the budget last and each earlier one eta times fewer,
    the first at least min_steps (default: the budget over eta^3)."""
    first = min_steps or max(1, budget // eta**3)
    if first > budget:
        raise ConfigError(
            f"sweep.halving.min_steps={first} is not allowed: it must be <= trainer.steps={budget}"
        )
    count = int(math.floor(math.log(budget / first, eta) + 1e-9))
    return [max(1, round(budget / eta**k)) for k in range(count, -1, -1)]


def at_steps(trial: Trial, steps: int) -> Trial:
    """The trial trained to `steps`: its config, and so its id, name that many."""
    config = {**trial.config, "trainer": {**trial.config["trainer"], "steps": steps}}
    return Trial(trial_id(config), config, trial.point)


class HalvingSearch(RandomSearch):
    """Rung by rung: every survivor's next rung is one batch."""

    name = "halving"
    takes_seeds = False

    @classmethod
    def expand(cls, sweep_cfg: dict, trial_args: list[str], config_loader) -> Grid:
        grid = super().expand(sweep_cfg, trial_args, config_loader)
        refuse_seeds(grid.space.space, cls.name)
        budgets = {trial.config["trainer"]["steps"] for trial in grid.trials}
        if len(budgets) > 1:
            raise ConfigError(
                "trainer.steps is the budget of sweep.search=halving: it cannot be searched"
            )
        halving = sweep_cfg["halving"]
        given = {k: allowed for k, allowed in HalvingConf.ranges.items() if halving[k] is not None}
        try:
            check_ranges("sweep.halving", halving, given)
        except ValueError as error:
            raise ConfigError(str(error)) from None
        steps = rungs(budgets.pop(), halving["min_steps"], halving["eta"])
        grid.fixed["sweep.halving.rungs"] = ",".join(map(str, steps))
        return grid

    def __init__(self, context):
        super().__init__(context)
        halving = context.sweep["halving"]
        self.eta = halving["eta"]
        budget = context.grid.trials[0].config["trainer"]["steps"]
        self.steps = rungs(budget, halving["min_steps"], self.eta)
        self.alive = list(range(len(context.grid.trials)))
        self.rung = -1
        self.rows: dict[int, Row] = {}  # this rung's results, by configuration
        self.index: dict[str, int] = {}  # this rung's trial ids -> configuration
        self.last: dict[int, str] = {}  # each configuration's latest rung, by trial id
        self.stops: list[str] = []
        # Trials proposed over all rungs, where none diverges: the progress bar's total.
        sizes = [len(self.alive)]
        for _ in self.steps[1:]:
            sizes.append(math.ceil(sizes[-1] / self.eta))
        self.budget = sum(sizes)

    def propose(self, free: int) -> list[Proposal]:
        if len(self.rows) < len(self.index) or self.rung == len(self.steps) - 1:
            return []  # the rung is still out, or the last rung is done
        if self.rung >= 0:
            self._promote()
        if not self.alive:
            return []
        self.rung += 1
        steps, final = self.steps[self.rung], self.rung == len(self.steps) - 1
        keys = list(self.context.grid.axes)
        tags = {"halving.rung": str(self.rung), "halving.steps": str(steps)}
        proposals = []
        self.rows, self.index = {}, {}
        for i in self.alive:
            trial = at_steps(self.context.grid.trials[i], steps)
            name = run_name(trial.config, keys)
            resume = self.last.get(i)
            proposals.append(Proposal(trial, name, tags, provisional=not final, resume=resume))
            self.index[trial.trial_id] = i
            self.last[i] = trial.trial_id
        return proposals

    def _promote(self) -> None:
        """The best 1/eta of this rung's converged trials train on; the others stop here."""
        metric, sign = self.ranking.metric, (1 if self.ranking.mode == "min" else -1)
        finished = [i for i in self.alive if _scored(self.rows[i], metric)]
        finished.sort(key=lambda i: sign * self.rows[i].final[metric])
        keep = finished[: max(1, math.ceil(len(self.alive) / self.eta))]
        self.stops += [self.last[i] for i in self.alive if i not in keep and i in finished]
        self.alive = keep

    def tell(self, proposal: Proposal, row: Row, trained: bool) -> None:
        self.told += 1
        i = self.index[proposal.trial_id]
        self.rows[i] = row
        if proposal.provisional and not _scored(row, self.ranking.metric):
            self.stops.append(proposal.trial_id)  # diverged or failed: it stops at once

    def stopped(self) -> list[str]:
        stops, self.stops = self.stops, []
        return stops

    def progress(self) -> str:
        return f"in rung {self.rung} of {len(self.steps)} ({len(self.alive)} trials training on)"

    def announce(self, done: int, todo: int) -> str:
        context = self.context
        return (
            f"sweep {context.name}: successive halving of {len(context.grid.trials)} trials "
            f"(seed {context.sweep['seed']}), rungs of {', '.join(map(str, self.steps))} steps, "
            f"the best 1/{self.eta} on at each; on {context.cpus} CPUs; tracking "
            f"{context.tracking_label}"
        )


def _scored(row: Row, metric: str) -> bool:
    return row.outcome == CONVERGED and math.isfinite(row.final.get(metric, math.nan))
