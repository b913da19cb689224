"""Configurations over seeds: aggregates, bootstrap intervals, the best line, what mattered."""

import math

import numpy as np
import pytest

from trainer.contract import FINAL_TRAIN_LOSS
from trainer.sweep.plan.ranking import Ranking
from trainer.sweep.record.rows import Row
from trainer.sweep.report.configs import best_lines, configs_csv, configurations
from trainer.sweep.report.importance import importances
from trainer.sweep.report.search_figure import Searched

RANKING = Ranking(FINAL_TRAIN_LOSS, "min", "mean")


def row(lr: float, seed: int, loss: float | None, outcome: str = "converged") -> Row:
    params = {"optimizer.name": "sgd", "optimizer.lr": str(lr), "trainer.seed": str(seed)}
    final = {FINAL_TRAIN_LOSS: loss} if loss is not None else {}
    return Row(f"id-{lr}-{seed}", f"sgd lr={lr} seed={seed}", params, outcome, final)


def test_a_configurations_mean_and_std_are_numpys_and_its_interval_holds_its_mean():
    losses = [0.31, 0.29, 0.35, 0.30, 0.33]
    [config] = configurations([row(0.1, s, v) for s, v in enumerate(losses)], RANKING, "mean")
    assert config.name == "sgd lr=0.1" and config.n == 5
    assert config.mean == pytest.approx(np.mean(losses), rel=1e-12)
    assert config.std == pytest.approx(np.std(losses, ddof=1), rel=1e-12)
    assert config.median == pytest.approx(np.median(losses), rel=1e-12)
    low, high = config.ci
    assert low < config.mean < high and high - low > 0


def test_seeds_that_agree_give_an_interval_of_no_width():
    [config] = configurations([row(0.1, s, 0.5) for s in range(3)], RANKING, "mean")
    assert config.ci == (0.5, 0.5) and config.std == 0.0


def test_a_configuration_with_some_seeds_diverged_aggregates_only_the_others_and_says_so():
    rows = [row(1.0, 0, 0.2), row(1.0, 1, 0.4), row(1.0, 2, None, "diverged"), row(1.0, 3, 0.3)]
    [config] = configurations(rows, RANKING, "mean")
    assert config.diverged == 1 and config.values.size == 3
    assert config.mean == pytest.approx(0.3, rel=1e-12)
    assert config.note() == "1 of 4 diverged; aggregated over the other 3"


def test_a_configuration_whose_every_seed_diverged_has_no_aggregate_and_ranks_last():
    rows = [row(9.0, s, None, "diverged") for s in range(3)] + [row(0.1, s, 1.0) for s in range(3)]
    configs = configurations(rows, RANKING, "mean")
    assert [c.name for c in configs] == ["sgd lr=0.1", "sgd lr=9.0"]
    assert configs[1].mean is None and configs[1].note() == "all 3 diverged"
    lines = configs_csv(configs).splitlines()
    assert len(lines) == 3 and lines[2].split(",")[4] == ""


def test_the_best_line_names_its_interval_and_the_overlap_sentence_appears_when_it_should():
    overlapping = [row(0.1, s, v) for s, v in enumerate([0.30, 0.32, 0.31])]
    overlapping += [row(0.2, s, v) for s, v in enumerate([0.31, 0.33, 0.30])]
    lines = best_lines(configurations(overlapping, RANKING, "mean"), RANKING, "mean")
    assert "95% CI [" in lines[0] and len(lines) == 2
    assert "not distinguishable" in lines[1]
    apart = [row(0.1, s, v) for s, v in enumerate([0.30, 0.31, 0.30])]
    apart += [row(0.2, s, v) for s, v in enumerate([0.90, 0.91, 0.92])]
    lines = best_lines(configurations(apart, RANKING, "mean"), RANKING, "mean")
    assert len(lines) == 1 and "sgd lr=0.1" in lines[0]


def test_median_ranks_by_the_median_and_bounds_it():
    rows = [row(0.1, s, v) for s, v in enumerate([0.1, 0.2, 9.0])]
    rows += [row(0.2, s, v) for s, v in enumerate([0.5, 0.5, 0.6])]
    by_mean = configurations(rows, RANKING, "mean")
    by_median = configurations(rows, RANKING, "median")
    assert by_mean[0].name == "sgd lr=0.2" and by_median[0].name == "sgd lr=0.1"
    low, high = by_median[0].ci
    assert low <= by_median[0].median <= high


def test_importances_sum_to_one_and_find_the_key_the_metric_follows():
    rng = np.random.default_rng(0)
    rows = []
    for i, lr in enumerate(np.geomspace(1e-3, 1, 8)):
        for j, momentum in enumerate(np.linspace(0, 0.9, 4)):
            loss = math.exp(-3 * math.log10(lr)) * (1 + 0.01 * rng.random())
            params = {"optimizer.lr": repr(float(lr)), "optimizer.momentum": repr(float(momentum))}
            rows.append(Row(f"{i}-{j}", f"{i}-{j}", params, "converged", {FINAL_TRAIN_LOSS: loss}))
    searched = [Searched("optimizer.lr", log=True), Searched("optimizer.momentum")]
    found = importances(rows, searched, RANKING)
    assert sum(found.values()) == pytest.approx(1.0, abs=1e-9)
    assert found["optimizer.lr"] > 0.9


def test_a_large_sweep_s_forest_is_fitted_to_the_same_few_trials_in_any_order():
    from trainer.sweep.report.importance import MOST_TRIALS, sample

    rows = [row(0.1 + i, 0, 1.0) for i in range(MOST_TRIALS + 500)]
    chosen = sample(rows)
    assert len(chosen) == MOST_TRIALS and len({r.trial_id for r in chosen}) == MOST_TRIALS
    assert [r.trial_id for r in sample(rows[::-1])] == [r.trial_id for r in chosen]
    assert sample(rows[:10]) == rows[:10]
