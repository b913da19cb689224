"""`sweep.search=grid`: every point of the grid as written, in one round."""

from trainer.sweep.plan.grid import Grid, expand
from trainer.sweep.plan.ranking import choose_ranking
from trainer.sweep.plan.search import Proposal, Search
from trainer.sweep.record.rows import Row
from trainer.sweep.record.store import ParentSummary
from trainer.sweep.report.searched import Searched, Searching
from trainer.tracking.naming import run_name


class GridSearch(Search):
    """Every trial at once; it learns nothing from their results. The summary ranks them by
    `sweep.metric` and draws the heatmap, every loss curve and the metric against each axis."""

    name = "grid"

    @classmethod
    def expand(cls, sweep_cfg: dict, trial_args: list[str], config_loader) -> Grid:
        return expand(sweep_cfg["params"], trial_args, config_loader)

    def __init__(self, context):
        super().__init__(context)
        self.ranking = choose_ranking(context.sweep, context.grid)
        self.budget = len(context.grid.trials)
        self.order = {t.trial_id: i for i, t in enumerate(context.grid.trials)}
        self.proposed = False
        self.told = 0

    def propose(self, free: int) -> list[Proposal]:
        if self.proposed:
            return []
        self.proposed = True
        axes = self.context.grid.axes
        return [Proposal(t, run_name(t.config, axes)) for t in self.context.grid.trials]

    def tell(self, proposal: Proposal, row: Row, trained: bool) -> None:
        self.told += 1

    def progress(self) -> str:
        return f"with {self.told} of {self.budget} trials done"

    def searching(self) -> Searching:
        """The grid's axes as the summary's figures draw them."""
        return Searching([axis_drawn(k, v) for k, v in self.context.grid.axes.items()], self.order)

    def summarise(self, rows: list[Row], elapsed: float) -> tuple[str, ParentSummary]:
        from trainer.sweep.report.configs import best_lines, configurations, table_lines
        from trainer.sweep.report.parent_files import trials_summary
        from trainer.sweep.report.table import table

        context, ranking = self.context, self.ranking
        configs = configurations(rows, ranking, ranking.aggregate)
        lines = [
            table(rows, elapsed, context.cpus, ranking),
            *table_lines(configs, ranking.aggregate),
            *best_lines(configs, ranking, ranking.aggregate),
        ]
        text = "\n".join(lines)
        if context.uri is None:  # tracking=none: no parent run to carry figures, tables
            return text, ParentSummary()
        return text, trials_summary(rows, context.grid, text, ranking, self.searching(), configs)


def axis_drawn(key: str, values: list[str]) -> Searched:
    """A grid axis: categories unless every value is a number; on a log scale when positive
    and spread over more than a decade."""
    try:
        numbers = [float(v) for v in values]
    except ValueError:
        return Searched(key, categorical=True)
    log = min(numbers) > 0 and max(numbers) / min(numbers) > 10
    return Searched(key, log=log)
