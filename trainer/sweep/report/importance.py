"""What mattered: how much of the metric's variance each searched hyperparameter explains.

fANOVA (Hutter et al. 2014) through Optuna's FanovaImportanceEvaluator: a random forest fitted
to the converged trials' metric over their hyperparameters, whose variance is decomposed into
each hyperparameter's main effect; the importances are normalised to sum to 1. The forest is
seeded, so the same trials give the same importances. A log-scaled key is fitted in log space
(Optuna's FloatDistribution(log=True)). Past MOST_TRIALS converged trials, the forest is fitted to
that many of them, drawn by a seeded generator from the trials in trial-id order: fANOVA's cost
grows with the trials and the splits they allow (a 100 x 100 grid took 20 s, a thousand of its
trials 9 s, 300 about 3 s), and the importances of 300 of a map's points are within 0.01 of a
thousand's. For a grid, `main_effects` are the mean metric at each
value of each axis, the other axes averaged over.
"""

import math

import numpy as np
from matplotlib.figure import Figure

from trainer.sweep.plan.ranking import Ranking
from trainer.sweep.record.rows import Row
from trainer.sweep.report.configs import SEED
from trainer.sweep.report.searched import Searched
from trainer.training.result import CONVERGED

MIN_TRIALS = 8  # fewer converged trials than this: no forest worth fitting
FOREST_SEED = 0
MOST_TRIALS = 300  # the forest's trials at most


def scored(rows: list[Row], metric: str) -> list[Row]:
    return [
        r for r in rows if r.outcome == CONVERGED and math.isfinite(r.final.get(metric, math.nan))
    ]


def text_of(row: Row, key: str) -> str | None:
    return row.params.get(key, row.params.get(f"{key}.name"))


def importances(rows: list[Row], searched: list[Searched], ranking: Ranking) -> dict[str, float]:
    """Each searched key's share of the metric's variance (summing to 1); empty where there are
    too few converged trials, or fewer than two keys that vary among them."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    finished = scored(rows, ranking.metric)
    varying = [
        s for s in hyperparameters(searched) if len({text_of(r, s.key) for r in finished}) > 1
    ]
    if len(finished) < MIN_TRIALS or len(varying) < 2:
        return {}
    finished = sample(finished)
    distributions = {s.key: _distribution(optuna, s, finished) for s in varying}
    study = optuna.create_study(direction="minimize" if ranking.mode == "min" else "maximize")
    for row in finished:
        params = {s.key: _value(s, text_of(row, s.key)) for s in varying}
        if any(v is None for v in params.values()):
            continue
        value = row.final[ranking.metric]
        # fANOVA fits what it is told; a loss spanning decades is told on the scale it is read.
        told = math.log10(value) if ranking.mode == "min" and value > 0 else value
        study.add_trial(
            optuna.trial.create_trial(params=params, distributions=distributions, value=told)
        )
    evaluator = optuna.importance.FanovaImportanceEvaluator(seed=FOREST_SEED)
    found = optuna.importance.get_param_importances(study, evaluator=evaluator, normalize=True)
    return {key: float(value) for key, value in found.items()}


def sample(rows: list[Row]) -> list[Row]:
    """At most MOST_TRIALS of `rows`, the same ones for the same trials in any order."""
    if len(rows) <= MOST_TRIALS:
        return rows
    ordered = sorted(rows, key=lambda row: row.trial_id)
    chosen = np.random.default_rng(FOREST_SEED).choice(len(ordered), MOST_TRIALS, replace=False)
    return [ordered[i] for i in sorted(chosen)]


def _distribution(optuna, searched: Searched, rows: list[Row]):
    if searched.categorical:
        return optuna.distributions.CategoricalDistribution(
            sorted({text_of(r, searched.key) for r in rows} - {None})
        )
    values = [float(text_of(r, searched.key)) for r in rows if text_of(r, searched.key) is not None]
    return optuna.distributions.FloatDistribution(
        min(values), max(values), log=searched.log and min(values) > 0
    )


def _value(searched: Searched, text: str | None):
    if text is None:
        return None
    return text if searched.categorical else float(text)


def hyperparameters(searched: list[Searched]) -> list[Searched]:
    """The searched keys but the seed: what a user tunes, not the noise it is measured over."""
    return [s for s in searched if s.key != SEED]


def main_effects(rows: list[Row], searched: list[Searched], metric: str) -> dict[str, list]:
    """For each key, (value, mean metric over the converged trials at that value) in order."""
    finished = scored(rows, metric)
    effects = {}
    for s in hyperparameters(searched):
        by_value: dict[str, list[float]] = {}
        for row in finished:
            text = text_of(row, s.key)
            if text is not None:
                by_value.setdefault(text, []).append(row.final[metric])
        order = sorted(by_value, key=lambda t: t if s.categorical else float(t))
        effects[s.key] = [(t, float(np.mean(by_value[t]))) for t in order]
    return effects


def importance_figure(found: dict[str, float], effects: dict | None, ranking: Ranking) -> Figure:
    """The importances as bars; for a grid, beside them each axis's main effect."""
    panels = 1 + (len(effects) if effects else 0)
    figure = Figure(figsize=(4.8 * min(panels, 3), 3.6 * math.ceil(panels / 3)))
    columns = min(panels, 3)
    lines = math.ceil(panels / columns)
    bars = figure.add_subplot(lines, columns, 1)
    keys = sorted(found, key=found.get)
    bars.barh(keys, [found[k] for k in keys], color="C0")
    for i, key in enumerate(keys):
        bars.text(found[key], i, f" {found[key]:.2f}", va="center", fontsize=8)
    bars.set_xlim(0, 1.15)
    bars.set_xlabel(f"share of the variance of {ranking.metric} (fANOVA)")
    bars.set_title("what mattered", fontsize=10)
    for index, (key, points) in enumerate((effects or {}).items(), start=2):
        axes = figure.add_subplot(lines, columns, index)
        labels = [t for t, _ in points]
        axes.plot(range(len(points)), [m for _, m in points], "o-", color="C1")
        shown = sorted({round(i) for i in np.linspace(0, len(points) - 1, min(len(points), 12))})
        axes.set_xticks(shown, [labels[i] for i in shown], rotation=30, fontsize=7)
        means = [m for _, m in points]
        if means and ranking.mode == "min" and min(means) > 0 and max(means) / min(means) > 10:
            axes.set_yscale("log")
        axes.set_xlabel(key)
        axes.set_ylabel(f"mean {ranking.metric}")
        axes.set_title("main effect", fontsize=10)
        axes.grid(True, alpha=0.3)
    return figure
