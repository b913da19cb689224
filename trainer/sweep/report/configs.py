"""Configurations and seeds: trials that differ only by `trainer.seed` form a configuration,
aggregated over the seeds that finished, with a 95% bootstrap confidence interval.

The interval is scipy.stats.bootstrap's BCa (bias-corrected and accelerated) interval of the
ranking statistic (`sweep.aggregate`: the mean or the median over seeds), 9,999 resamples from a
fixed random state, so the same results give the same interval; where BCa is undefined (every
resample equal) it is the percentile interval. The standard deviation is the sample one
(`np.std(values, ddof=1)`), as a paper reporting seeds means it. A configuration where some seeds
diverged aggregates the rest and says "k of n diverged"; where all did, it has no aggregate.
"""

import csv
import io
import math
import warnings
from dataclasses import dataclass, field

import numpy as np

from trainer.sweep.plan.ranking import Ranking
from trainer.sweep.record.rows import Row
from trainer.training.result import CONVERGED, DIVERGED

SEED = "trainer.seed"
CONFIDENCE, RESAMPLES, RANDOM_STATE = 0.95, 9999, 0
AGGREGATES = ("mean", "median")
# Params that follow from others, not a configuration's own: lr's exponent for MLflow's charts.
DERIVED = ("log10_lr",)


@dataclass
class Configuration:
    """One configuration's seeds: their rows, and the aggregate of those that finished."""

    name: str
    params: dict[str, str]
    rows: list[Row] = field(default_factory=list)
    values: np.ndarray = field(default_factory=lambda: np.empty(0))
    mean: float | None = None
    std: float | None = None
    median: float | None = None
    ci: tuple[float, float] | None = None

    @property
    def n(self) -> int:
        return len(self.rows)

    @property
    def diverged(self) -> int:
        return sum(row.outcome == DIVERGED for row in self.rows)

    def value(self, aggregate: str) -> float | None:
        return self.mean if aggregate == "mean" else self.median

    def note(self) -> str:
        """What of its seeds the aggregate leaves out, in words ("" when none)."""
        left_out = self.n - self.values.size
        if not left_out:
            return ""
        if self.diverged == self.n:
            return f"all {self.n} diverged"
        if self.diverged:
            what = f"{self.diverged} of {self.n} diverged"
        else:
            what = f"{left_out} of {self.n} failed"
        return f"{what}; aggregated over the other {self.values.size}"


def key_of(row: Row) -> tuple:
    return tuple(sorted((k, v) for k, v in row.params.items() if k != SEED and k not in DERIVED))


def configurations(rows: list[Row], ranking: Ranking, aggregate: str) -> list[Configuration]:
    """Every configuration among `rows`, best first by `aggregate` of the ranking's metric;
    those without one (every seed diverged or failed) last."""
    groups: dict[tuple, Configuration] = {}
    for row in rows:
        key = key_of(row)
        if key not in groups:
            name = row.name.replace(f" seed={row.params.get(SEED)}", "")
            groups[key] = Configuration(name, dict(key))
        groups[key].rows.append(row)
    for config in groups.values():
        summarise(config, ranking.metric, aggregate)
    scored = [c for c in groups.values() if c.values.size]
    scored.sort(key=lambda c: ranking.sort_key(c.value(aggregate)))
    return scored + [c for c in groups.values() if not c.values.size]


def summarise(config: Configuration, metric: str, aggregate: str) -> None:
    finished = [
        row.final[metric]
        for row in config.rows
        if row.outcome == CONVERGED and math.isfinite(row.final.get(metric, math.nan))
    ]
    config.values = values = np.array(finished, dtype=float)
    if not values.size:
        return
    config.mean, config.median = float(np.mean(values)), float(np.median(values))
    config.std = float(np.std(values, ddof=1)) if values.size > 1 else None
    config.ci = interval(values, aggregate)


def interval(values: np.ndarray, aggregate: str) -> tuple[float, float] | None:
    """The 95% bootstrap interval of the aggregate over `values` (None for a single value)."""
    if values.size < 2:
        return None
    if np.all(values == values[0]):
        return float(values[0]), float(values[0])
    from scipy.stats import bootstrap

    statistic = np.mean if aggregate == "mean" else np.median
    for method in ("BCa", "percentile"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # BCa's degenerate-distribution warning: tried next
            found = bootstrap(
                (values,),
                statistic,
                confidence_level=CONFIDENCE,
                n_resamples=RESAMPLES,
                method=method,
                random_state=np.random.default_rng(RANDOM_STATE),
            ).confidence_interval
        low, high = float(found.low), float(found.high)
        if math.isfinite(low) and math.isfinite(high):
            return low, high
    return None


def overlap(a: Configuration, b: Configuration) -> bool:
    return a.ci is not None and b.ci is not None and a.ci[0] <= b.ci[1] and b.ci[0] <= a.ci[1]


def best_lines(configs: list[Configuration], ranking: Ranking, aggregate: str) -> list[str]:
    """The best configuration with its interval, and whether the runner-up is distinguishable."""
    scored = [c for c in configs if c.values.size]
    if not scored or max(c.n for c in configs) < 2:
        return []
    best = scored[0]
    lines = [f"best configuration by {aggregate} {ranking.metric}: {describe(best, aggregate)}"]
    if len(scored) > 1 and overlap(best, scored[1]):
        lines.append(
            f"the runner-up, {describe(scored[1], aggregate)}, is not distinguishable from it "
            "at 95%: their intervals overlap"
        )
    return lines


def describe(config: Configuration, aggregate: str) -> str:
    value = config.value(aggregate)
    ci = f" (95% CI [{config.ci[0]:.4g}, {config.ci[1]:.4g}])" if config.ci else ""
    note = f"; {config.note()}" if config.note() else ""
    return f"{config.name}: {value:.4g}{ci} over {config.values.size} seeds{note}"


def table_lines(configs: list[Configuration], aggregate: str, top: int = 8) -> list[str]:
    """The configurations of a sweep with seeds, best first."""
    if not configs or max(c.n for c in configs) < 2:
        return []
    width = max(len(c.name) for c in configs[:top])
    header = (
        f"{'configuration':<{width}}  {'n':>3} {'div':>4} {'mean':>11} {'std':>10} "
        f"{'median':>11}  95% CI of the {aggregate}"
    )
    lines = [f"{len(configs)} configurations over seeds:", header]
    for c in configs[:top]:
        if not c.values.size:
            lines.append(f"{c.name:<{width}}  {c.n:>3} {c.diverged:>4}  {c.note()}")
            continue
        std = f"{c.std:>10.4g}" if c.std is not None else f"{'-':>10}"
        ci = f"[{c.ci[0]:.4g}, {c.ci[1]:.4g}]" if c.ci else "-"
        lines.append(
            f"{c.name:<{width}}  {c.n:>3} {c.diverged:>4} {c.mean:>11.4g} {std} {c.median:>11.4g}  "
            f"{ci}{'  ' + c.note() if c.note() else ''}"
        )
    return lines


COLUMNS = (
    "configuration",
    "n",
    "diverged",
    "finished",
    "mean",
    "std",
    "median",
    "ci_low",
    "ci_high",
    "note",
)


def configs_csv(configs: list[Configuration]) -> str:
    keys = sorted({k for c in configs for k in c.params})
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=[*COLUMNS, *keys])
    writer.writeheader()
    for c in configs:
        writer.writerow(
            {
                "configuration": c.name,
                "n": c.n,
                "diverged": c.diverged,
                "finished": c.values.size,
                "mean": number(c.mean),
                "std": number(c.std),
                "median": number(c.median),
                "ci_low": number(c.ci[0] if c.ci else None),
                "ci_high": number(c.ci[1] if c.ci else None),
                "note": c.note(),
                **c.params,
            }
        )
    return out.getvalue()


def number(value: float | None) -> str:
    return "" if value is None else repr(value)


def best_tags(configs: list[Configuration], aggregate: str) -> dict[str, str]:
    """The parent's tags naming the best configuration and its interval."""
    scored = [c for c in configs if c.values.size]
    if not scored:
        return {}
    best = scored[0]
    tags = {"best.configuration": best.name, f"best.{aggregate}": repr(best.value(aggregate))}
    if best.ci:
        tags["best.ci_low"], tags["best.ci_high"] = repr(best.ci[0]), repr(best.ci[1])
    tags["best.seeds"] = str(best.values.size)
    return tags
