"""The parent run's figures, read from the matplotlib objects before they are saved."""

import math

import numpy as np
import pytest
from matplotlib.colors import to_hex

from trainer.config.compose import hydra_context
from trainer.sweep.plan.grid import expand
from trainer.sweep.plan.ranking import Ranking
from trainer.sweep.record.rows import Row
from trainer.sweep.report.heatmap import heatmap_figure
from trainer.sweep.report.loss_curves import divergence_threshold, loss_curves_figure
from trainer.tracking.naming import run_name
from trainer.training.loop import train
from trainer.training.result import DIVERGED

LRS = [0.005, 0.03, 0.2]
MOMENTA = [0.0, 0.9]


def trained_rows(overrides: list[str]):
    with hydra_context() as loader:
        grid = expand({}, overrides, loader)
    rows = [Row.from_result(train(t.config), run_name(t.config, grid.axes)) for t in grid.trials]
    return rows, grid


@pytest.fixture(scope="module")
def quadratic():
    """Heavy-ball momentum on the quadratic: lr=0.2 is past 2 (1 + m) / lambda_max, so it
    diverges at every momentum; the others converge."""
    return trained_rows(
        [
            "task=quadratic",
            "optimizer=momentum",
            "optimizer.lr=" + ",".join(map(str, LRS)),
            "optimizer.momentum=" + ",".join(map(str, MOMENTA)),
            "trainer.steps=100",
        ]
    )


def panels(figure):
    """The figure's plotting panels (a legend or colour bar is not one)."""
    return [axes for axes in figure.axes if axes.get_title()]


def test_loss_curves_are_log_scale_with_one_panel_per_momentum(quadratic):
    rows, grid = quadratic
    figure = loss_curves_figure(rows, grid.axes)
    shown = panels(figure)
    assert [axes.get_title() for axes in shown] == [f"momentum = {m:g}" for m in MOMENTA]
    assert all(axes.get_yscale() == "log" for axes in shown)
    for axes in shown:
        # One colour per learning rate, the same in every panel.
        curves = [line for line in axes.get_lines() if line.get_marker() in ("None", None)]
        curves = [line for line in curves if line.get_linestyle() == "-"]
        assert len(curves) == len(LRS)
        assert len({to_hex(line.get_color()) for line in curves}) == len(LRS)


def test_diverged_curves_stop_at_the_threshold_with_a_marker(quadratic):
    rows, grid = quadratic
    diverged = [r for r in rows if r.outcome == DIVERGED]
    assert {r.value("optimizer.lr") for r in diverged} == {0.2}
    figure = loss_curves_figure(rows, grid.axes)
    highest = max(divergence_threshold(r) for r in rows)
    markers = []
    for axes in panels(figure):
        for line in axes.get_lines():
            assert np.nanmax(line.get_ydata()) <= highest * (1 + 1e-12)
            if line.get_marker() == "x":
                markers.append((float(line.get_xdata()[0]), float(line.get_ydata()[0])))
    expected = [(float(r.divergence_step), divergence_threshold(r)) for r in diverged]
    flat = [value for pair in sorted(markers) for value in pair]
    assert flat == pytest.approx([value for pair in sorted(expected) for value in pair])
    # The initial loss times trainer.divergence.factor (1e4 by default).
    assert divergence_threshold(diverged[0]) == pytest.approx(1e4 * diverged[0].curve[0])


def test_heatmap_is_coloured_by_the_ranking_metric():
    rows, grid = trained_rows(
        [
            "task=digits_mlp",
            "optimizer=momentum",
            "optimizer.lr=0.01,0.1",
            "optimizer.momentum=0,0.9",
            "trainer.steps=20",
            "trainer.eval_every=10",
        ]
    )
    for ranking in (Ranking("final_val_loss", "min"), Ranking("final_val_accuracy", "max")):
        figure = heatmap_figure(rows, grid.axes, {}, ranking)
        [panel] = panels(figure)
        labels = [axes.get_ylabel() for axes in figure.axes if axes not in (panel,)]
        assert labels == [f"{ranking.metric} ({ranking.mode} is best)"]
        cells = panel.images[0].get_array()
        by_point = {(r.value("optimizer.momentum"), r.value("optimizer.lr")): r for r in rows}
        for i, momentum in enumerate([0.0, 0.9]):
            for j, lr in enumerate([0.01, 0.1]):
                expected = by_point[(momentum, lr)].final[ranking.metric]
                assert math.isclose(cells[i, j], expected)
        # The best trial's cell is outlined.
        [outline] = [patch for patch in panel.patches if not patch.get_fill()]
        j, i = (round(v + 0.5) for v in outline.get_xy())
        best = max(
            rows, key=lambda r: r.final[ranking.metric] * (-1 if ranking.mode == "min" else 1)
        )
        assert (best.value("optimizer.momentum"), best.value("optimizer.lr")) == (
            [0.0, 0.9][i],
            [0.01, 0.1][j],
        )


def test_figures_of_a_10000_trial_sweep_stay_legible():
    # 100 learning rates x 100 momenta, with synthetic curves: the figures show evenly spaced
    # values of each axis, and no text per heatmap cell.
    lrs, momenta = np.geomspace(1e-3, 1, 100), np.linspace(0, 0.99, 100)
    axes = {
        "optimizer.lr": [f"{v:g}" for v in lrs],
        "optimizer.momentum": [f"{v:g}" for v in momenta],
    }
    rows = []
    for lr in lrs:
        for m in momenta:
            params = {
                "optimizer.lr": f"{lr:g}",
                "optimizer.momentum": f"{m:g}",
                "optimizer.name": "momentum",
                "task.name": "linear_regression",
                "trainer.divergence.factor": "10000.0",
            }
            final = {"final_train_loss": lr * (1 - m) + 1e-3}
            curve = np.geomspace(1.0, final["final_train_loss"], 20)
            rows.append(Row(f"{lr:g}-{m:g}", "", params, "converged", final, curve=curve))
    curves = loss_curves_figure(rows, axes)
    shown = panels(curves)
    assert len(shown) == 6 and "10 of its 100 values" in curves._suptitle.get_text()
    assert all(len(axes_.get_lines()) <= 11 for axes_ in shown)  # 10 curves + the threshold
    heatmap = heatmap_figure(rows, axes, {}, Ranking())
    [panel] = panels(heatmap)
    assert len(panel.texts) == 0 and len(panel.get_xticks()) <= 12
