"""`sweep.search=grid`: every point of the grid as written, in one round."""

from trainer.sweep.plan.grid import Grid, expand
from trainer.sweep.plan.ranking import choose_ranking
from trainer.sweep.plan.search import Proposal, Search
from trainer.sweep.record.rows import Row
from trainer.sweep.record.store import ParentSummary
from trainer.tracking.naming import run_name


class GridSearch(Search):
    """One round of every trial; it learns nothing from their results. The summary ranks them
    by `sweep.metric` and draws the heatmap and every loss curve."""

    name = "grid"

    @classmethod
    def expand(cls, sweep_cfg: dict, trial_args: list[str], config_loader) -> Grid:
        return expand(sweep_cfg["params"], trial_args, config_loader)

    def __init__(self, context):
        super().__init__(context)
        self.ranking = choose_ranking(context.sweep, context.grid)
        self.budget = len(context.grid.trials)
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
        return f"with {self.told} of {len(self.context.grid.trials)} trials logged"

    def summarise(self, rows: list[Row], elapsed: float) -> tuple[str, ParentSummary]:
        from trainer.sweep.report.parent_files import trials_summary
        from trainer.sweep.report.table import table

        context = self.context
        text = table(rows, elapsed, context.cpus, self.ranking)
        return text, trials_summary(rows, context.grid, text, self.ranking)
