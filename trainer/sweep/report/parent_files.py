"""What a sweep's parent run ends with: its metrics, tags, table, figures and summary text."""

from trainer import contract
from trainer.sweep.plan.grid import Grid
from trainer.sweep.plan.ranking import Ranking
from trainer.sweep.record.rows import Row
from trainer.sweep.record.store import ParentSummary
from trainer.sweep.report.configs import (
    Configuration,
    best_tags,
    configs_csv,
    configurations,
)
from trainer.sweep.report.searched import Searching
from trainer.sweep.report.searches.boundary_table import PointReport, boundary_csv, parent_metrics
from trainer.sweep.report.table import counts, results_csv


def trials_summary(
    rows: list[Row],
    grid: Grid,
    text: str,
    ranking: Ranking,
    searched: Searching,
    configs: list[Configuration] | None = None,
) -> ParentSummary:
    """Counts, the best value and each key's importance as metrics, the best configuration as
    tags; results.csv, configs.csv, search.png, compare.png, importance.png (with enough
    trials), summary.txt (`text`), a grid's heatmap.png and, where curves were read,
    loss_curves.png. `configs`: the rows' configurations (`configurations`), where in hand."""
    # matplotlib is imported when the figures are drawn, not while the store opens.
    from trainer.plots import to_png
    from trainer.sweep.report.compare import compare_figure
    from trainer.sweep.report.heatmap import heatmap_png
    from trainer.sweep.report.importance import importance_figure, importances, main_effects
    from trainer.sweep.report.loss_curves import loss_curves_png
    from trainer.sweep.report.search_figure import search_png

    if configs is None:
        configs = configurations(rows, ranking, ranking.aggregate)
    files = {
        contract.RESULTS_FILE: results_csv(rows).encode(),
        contract.CONFIGS_FILE: configs_csv(configs).encode(),
        contract.SEARCH_FILE: search_png(rows, searched.keys, ranking, searched.order),
        contract.COMPARE_FILE: to_png(compare_figure(configs, ranking), tight=True),
        contract.SUMMARY_FILE: text.encode(),
    }
    metrics = counts(rows, ranking)
    found = importances(rows, searched.keys, ranking)
    if found:
        effects = main_effects(rows, searched.keys, ranking.metric) if searched.heatmap else None
        figure = importance_figure(found, effects, ranking)
        files[contract.IMPORTANCE_FILE] = to_png(figure, tight=True)
        metrics.update({f"importance/{key}": value for key, value in found.items()})
    pictures = [contract.SEARCH_FILE, contract.COMPARE_FILE, contract.LOSS_CURVES_FILE]
    if found:
        pictures.append(contract.IMPORTANCE_FILE)
    if searched.heatmap:
        trial_configs = {t.trial_id: t.config for t in grid.trials}
        files[contract.HEATMAP_FILE] = heatmap_png(rows, grid.axes, trial_configs, ranking)
        pictures.insert(0, contract.HEATMAP_FILE)
    # A rerun that ran nothing read no curves back: the figure logged before stays.
    if any(row.curve.size for row in rows):
        files[contract.LOSS_CURVES_FILE] = loss_curves_png(rows, searched.curve_axes or grid.axes)
    tags = {
        "sweep.metric": ranking.metric,
        "sweep.mode": ranking.mode,
        "sweep.aggregate": ranking.aggregate,
        **best_tags(configs, ranking.aggregate),
    }
    return ParentSummary(metrics=metrics, tags=tags, files=files, pictures=pictures)


def boundary_summary(reports: list[PointReport], text: str, title: str) -> ParentSummary:
    """lr* per point as metrics; boundary.csv, boundary.png and summary.txt (`text`)."""
    from trainer.sweep.report.searches.boundary_figure import boundary_png

    files = {
        contract.BOUNDARY_CSV_FILE: boundary_csv(reports).encode(),
        contract.BOUNDARY_FILE: boundary_png(reports, title),
        contract.SUMMARY_FILE: text.encode(),
    }
    return ParentSummary(
        metrics=parent_metrics(reports), files=files, pictures=[contract.BOUNDARY_FILE]
    )
