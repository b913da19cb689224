"""compare.png: the best configuration of each optimizer with its 95% interval, side by side."""

from matplotlib.figure import Figure

from trainer.sweep.plan.ranking import Ranking
from trainer.sweep.report.configs import Configuration


def best_per_optimizer(configs: list[Configuration], aggregate: str) -> list[Configuration]:
    """The best scored configuration of each optimizer (configs come best first)."""
    best: dict[str, Configuration] = {}
    for config in configs:
        name = config.params.get("optimizer.name", "?")
        if config.values.size and name not in best:
            best[name] = config
    return list(best.values())


def compare_figure(configs: list[Configuration], ranking: Ranking) -> Figure:
    """Each optimizer's best configuration: its aggregate as a point, its interval as a bar,
    each seed that finished as a dot, and how many of its seeds diverged."""
    aggregate = ranking.aggregate
    shown = best_per_optimizer(configs, aggregate)
    figure = Figure(figsize=(max(4.5, 1.6 * len(shown) + 2), 4.4))
    axes = figure.add_subplot()
    for x, config in enumerate(shown):
        value = config.value(aggregate)
        low, high = config.ci if config.ci else (value, value)
        axes.errorbar(
            [x], [value], yerr=[[value - low], [high - value]], fmt="o", color="C0", capsize=6, ms=7
        )
        axes.scatter([x + 0.1] * config.values.size, config.values, s=10, color="grey", zorder=3)
        if config.diverged:
            axes.annotate(
                f"{config.diverged}/{config.n} diverged",
                (x, high),
                xytext=(0, 8),
                textcoords="offset points",
                ha="center",
                fontsize=7,
                color="red",
            )
    axes.set_xticks(range(len(shown)), [c.name for c in shown], rotation=20, ha="right", fontsize=8)
    values = [v for c in shown for v in c.values]
    if values and ranking.mode == "min" and min(values) > 0 and max(values) / min(values) > 10:
        axes.set_yscale("log")
    axes.set_ylabel(f"{ranking.metric}, {aggregate} over seeds")
    seeds = max((c.n for c in shown), default=0)
    axes.set_title(
        f"best configuration of each optimizer\n{aggregate} and 95% bootstrap CI over "
        f"{seeds} seed{'s' if seeds != 1 else ''} (grey: each seed)",
        fontsize=9,
    )
    axes.grid(True, axis="y", alpha=0.3)
    axes.set_xlim(-0.6, len(shown) - 0.4)
    if not shown:
        axes.text(0.5, 0.5, "no configuration finished", ha="center", transform=axes.transAxes)
    return figure
