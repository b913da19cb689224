"""The files a sweep's parent run ends with: its table, figures and summary text."""

from trainer import contract
from trainer.sweep.plan.grid import Grid
from trainer.sweep.plan.ranking import Ranking
from trainer.sweep.report.boundary_table import boundary_csv
from trainer.sweep.report.rows import Row, results_csv, table


def sweep_files(
    rows: list[Row], grid: Grid, elapsed: float, cpus: int, ranking: Ranking
) -> dict[str, bytes]:
    """results.csv, heatmap.png, summary.txt and, where curves were read, loss_curves.png."""
    # matplotlib is imported when the figures are drawn, not while the store opens.
    from trainer.sweep.report.heatmap import heatmap_png
    from trainer.sweep.report.loss_curves import loss_curves_png

    configs = {t.trial_id: t.config for t in grid.trials}
    files = {
        contract.RESULTS_FILE: results_csv(rows).encode(),
        contract.HEATMAP_FILE: heatmap_png(rows, grid.axes, configs, ranking),
        contract.SUMMARY_FILE: table(rows, elapsed, cpus, ranking).encode(),
    }
    # A rerun that ran nothing read no curves back: the figure logged before stays.
    if any(row.curve.size for row in rows):
        files[contract.LOSS_CURVES_FILE] = loss_curves_png(rows, grid.axes)
    return files


def boundary_files(reports: list, summary: str, title: str) -> dict[str, bytes]:
    """A boundary search's boundary.csv, boundary.png and summary.txt."""
    from trainer.sweep.report.boundary_figure import boundary_png

    return {
        "boundary.csv": boundary_csv(reports).encode(),
        "boundary.png": boundary_png(reports, title),
        contract.SUMMARY_FILE: summary.encode(),
    }
