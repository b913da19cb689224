"""`sweep.search=tpe`: Optuna's TPE sampler, asked for a trial whenever a CPU is free.

Ask-and-tell: the loop asks for as many trials as there are free CPUs and tells each result as it
arrives (TPE's constant liar keeps the trials in flight apart). A converged trial is told its
`sweep.metric`; a diverged one is told as infeasible, `set_constraint("diverged", 1.0)`: Optuna's
TPE ranks every infeasible trial below every feasible one (Optuna's constrained TPE), so the
sampler learns to stay away from the region that diverges, and no NaN or invented loss enters its
model (the value it is told, the worst feasible one so far, does not rank it). A failed trial is
told FAIL. A rerun adds the finished trials to the study first, then asks for the rest of the
budget. Optuna is imported only when this search is chosen.
"""

import itertools
import math

import numpy as np

from trainer.sweep.plan.grid import Grid
from trainer.sweep.plan.search import Proposal
from trainer.sweep.plan.searches.sampled_search import RandomSearch, refuse_seeds
from trainer.sweep.record.rows import Row
from trainer.tracking.naming import run_name
from trainer.training.result import CONVERGED, DIVERGED

# Points composed before anything starts: errors in the space show then, and every combination
# of the categorical dimensions' values is composed once (later trials reuse those configs).
CHECKED_POINTS, MOST_COMBINATIONS = 8, 64


class TpeSearch(RandomSearch):
    """Tree-structured Parzen Estimator, seeded by `sweep.seed`, `sweep.n_trials` in all."""

    name = "tpe"
    takes_seeds = False

    @staticmethod
    def points(dimensions: int, n: int, seed: int) -> np.ndarray:
        """The points checked at the start (not proposed: TPE chooses its own)."""
        return RandomSearch.points(dimensions, min(n, CHECKED_POINTS), seed)

    @classmethod
    def expand(cls, sweep_cfg: dict, trial_args: list[str], config_loader) -> Grid:
        grid = super().expand(sweep_cfg, trial_args, config_loader)
        space = grid.space
        refuse_seeds(space.space, cls.name)
        categorical = [d for d in space.space.dimensions if not d.continuous]
        quantiles = [middles(len(d.choices)) for d in categorical]
        # Composed now, inside Hydra's context: later trials reuse each combination's config.
        for combination in itertools.islice(itertools.product(*quantiles), MOST_COMBINATIONS):
            given = dict(zip((d.key for d in categorical), combination, strict=True))
            space.trial([given.get(d.key, 0.5) for d in space.space.dimensions])
        return grid

    def __init__(self, context):
        import optuna

        super().__init__(context)
        self.optuna = optuna
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self.space = context.grid.space
        self.distributions = {d.key: distribution(optuna, d) for d in self.space.space.dimensions}
        self.budget = context.sweep["n_trials"]
        self.asked: dict[str, object] = {}  # trial_id -> Optuna's trial in flight
        self.order = {}
        self.worst: float | None = None
        earlier = [self._retold(row) for row in context.store.finished.values()]
        earlier = [trial for trial in earlier if trial is not None]
        # Seeded past the trials told already: a resumed study asks for new points, not for
        # the ones its first asks drew from the same seed.
        sampler = optuna.samplers.TPESampler(seed=context.sweep["seed"] + len(earlier))
        direction = "minimize" if self.ranking.mode == "min" else "maximize"
        self.study = optuna.create_study(direction=direction, sampler=sampler)
        self.study.add_trials(earlier)
        self.told = self.retold = len(earlier)

    def announce(self, done: int, todo: int) -> str:
        context = self.context
        return (
            f"sweep {context.name}: tpe search, {self.budget} trials (seed "
            f"{context.sweep['seed']}), {self.retold} already done, the rest asked one per free "
            f"CPU of {context.cpus}; tracking {context.tracking_label}"
        )

    def propose(self, free: int) -> list[Proposal]:
        proposals = []
        keys = list(self.distributions)
        while free > len(proposals) and len(self.study.trials) < self.budget:
            asked = self.study.ask(self.distributions)
            trial = self.space.compose(self.space.space.lines_of(asked.params))
            self.asked[trial.trial_id] = asked
            self.order.setdefault(trial.trial_id, asked.number)
            name = run_name(trial.config, keys)
            proposals.append(Proposal(trial, name, {"tpe.number": str(asked.number)}))
        return proposals

    def tell(self, proposal: Proposal, row: Row, trained: bool) -> None:
        self.told += 1
        asked = self.asked.pop(proposal.trial_id)
        value = self._value(row)
        if row.outcome == DIVERGED:
            asked.set_constraint("diverged", 1.0)
            self.study.tell(asked, self.worst if self.worst is not None else 0.0)
        elif value is None:
            self.study.tell(asked, state=self.optuna.trial.TrialState.FAIL)
        else:
            asked.set_constraint("diverged", 0.0)
            self.study.tell(asked, value)

    def _value(self, row: Row) -> float | None:
        """A converged trial's metric, or None; the worst of them so far is kept."""
        value = row.final.get(self.ranking.metric)
        if row.outcome != CONVERGED or value is None or not math.isfinite(value):
            return None
        self.worst = value if self.worst is None else max(self.worst, value, key=self._badness)
        return value

    def _badness(self, value: float) -> float:
        return value if self.ranking.mode == "min" else -value

    def _retold(self, row: Row):
        """A trial an earlier invocation finished, as it was told then (None if it lies
        outside today's space)."""
        trial = self.optuna.trial
        params = {}
        for d in self.space.space.dimensions:
            text = row.params.get(d.key, row.params.get(f"{d.key}.name"))
            if text is None:
                return None
            params[d.key] = text if not d.continuous else (int(text) if d.integer else float(text))
        value = self._value(row)
        if row.outcome == DIVERGED:
            state, told, constraints = trial.TrialState.COMPLETE, self.worst or 0.0, 1.0
        elif value is None:
            state, told, constraints = trial.TrialState.FAIL, None, None
        else:
            state, told, constraints = trial.TrialState.COMPLETE, value, 0.0
        try:
            frozen = trial.create_trial(
                state=state,
                value=told,
                params=params,
                distributions=self.distributions,
                constraints=None if constraints is None else {"diverged": constraints},
            )
        except ValueError:
            return None  # outside today's space: not one of this search's trials
        self.order.setdefault(row.trial_id, len(self.order))
        return frozen


def middles(count: int) -> list[float]:
    """The quantile in the middle of each of `count` choices."""
    return [(i + 0.5) / count for i in range(count)]


def distribution(optuna, dimension):
    """A dimension of the space as Optuna's distribution."""
    if not dimension.continuous:
        return optuna.distributions.CategoricalDistribution(dimension.choices)
    if dimension.integer:
        low, high = math.ceil(dimension.low), math.floor(dimension.high)
        return optuna.distributions.IntDistribution(low, high, log=dimension.log)
    return optuna.distributions.FloatDistribution(dimension.low, dimension.high, log=dimension.log)
