"""`sweep.search=lr_range`: the learning-rate range test, one trial per point of the other axes.

Each trial raises its learning rate geometrically every step from `sweep.lr_range.low` to
`high` over `trainer.steps` (trainer/training/range_test.py) and ends once the loss passes
`stop` times its best. The suggestion is fastai's first rule: a tenth of the learning rate where
the smoothed loss was lowest, since the lowest point already sits at the edge where training
turns unstable. On the quadratic the report also marks the edge theory gives, 2(1+m)/lambda_max
for heavy-ball momentum, so the test's suggestion can be read against where the optimizer really
diverges. A trial that diverges is a result like any other: its curve up to the divergence is
the test.
"""

from trainer.config.compose import trial_id
from trainer.config.ranges import check_bracket
from trainer.config.schema import LrRangeConf
from trainer.sweep.plan.grid import Grid, Trial, expand_without
from trainer.sweep.plan.search import Proposal
from trainer.sweep.plan.searches.grid_search import GridSearch
from trainer.sweep.record.rows import Row
from trainer.sweep.record.store import ParentSummary
from trainer.tracking.naming import run_name
from trainer.training.range_test import RANGE_TEST

LR = "optimizer.lr"


def settings(sweep_cfg: dict) -> dict:
    """`sweep.lr_range.*`, checked: the ranges LrRangeConf declares, then high above low."""
    given = dict(sweep_cfg["lr_range"])
    check_bracket("sweep.lr_range", given, LrRangeConf.ranges)
    return {key: float(given[key]) for key in ("low", "high", "stop")}


class LrRangeSearch(GridSearch):
    """Every point's range test at once; each trial's curve is the test."""

    name = "lr_range"

    @classmethod
    def expand(cls, sweep_cfg: dict, trial_args: list[str], config_loader) -> Grid:
        test = settings(sweep_cfg)
        why = (
            f"sweep.search=lr_range raises {LR} itself; set its range with "
            "sweep.lr_range.low and sweep.lr_range.high"
        )
        grid = expand_without(LR, repr(test["low"]), sweep_cfg, trial_args, config_loader, why)
        trials = []
        for trial in grid.trials:
            config = {**trial.config, RANGE_TEST: test}
            trials.append(Trial(trial_id(config), config, trial.point))
        fixed = grid.fixed
        fixed.update({f"sweep.lr_range.{key}": repr(value) for key, value in test.items()})
        fixed["sweep.search"] = cls.name
        return Grid(trials, grid.axes, fixed)

    def propose(self, free: int) -> list[Proposal]:
        if self.proposed:
            return []
        self.proposed = True
        axes = list(self.context.grid.axes)
        return [
            Proposal(t, "range test " + run_name(t.config, axes)) for t in self.context.grid.trials
        ]

    def announce(self, done: int, todo: int) -> str:
        context, test = self.context, context_test(self.context)
        return (
            f"sweep {context.name}: learning-rate range test from {test['low']:g} to "
            f"{test['high']:g} over {len(context.grid.trials)} points, {done} already done, "
            f"{todo} to run on {context.cpus} CPUs; tracking {context.tracking_label}"
        )

    def summarise(self, rows: list[Row], elapsed: float) -> tuple[str, ParentSummary]:
        from trainer.sweep.report.searches.lr_range import lr_range_summary

        context = self.context
        return lr_range_summary(rows, context.grid, elapsed, context.cpus, context.uri is not None)


def context_test(context) -> dict:
    return context.grid.trials[0].config[RANGE_TEST]
