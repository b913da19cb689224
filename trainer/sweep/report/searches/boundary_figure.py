"""boundary.png: the measured lr* against the second axis, one line per optimizer, with theory."""

from collections import defaultdict

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FormatStrFormatter

from trainer.plots import to_png
from trainer.sweep.plan.searches.bisection import DIVERGES_AT_LOW, NO_DIVERGENCE
from trainer.sweep.report.searches.boundary_table import PointReport
from trainer.training.stability import theoretical_limit

GROUP_AXES = ("optimizer", "task")
THEORY = "theory, rho(M) = 1"


def second_axis(reports: list[PointReport]) -> str | None:
    """The first axis whose values are numbers wherever it applies (momentum, usually)."""
    keys = [key for r in reports for key in r.axes if key not in GROUP_AXES]
    for key in dict.fromkeys(keys):
        try:
            [float(r.axes[key]) for r in reports if key in r.axes]
            return key
        except ValueError:
            continue
    return None


def line_key(report: PointReport, x_key: str | None) -> str:
    """One line per optimizer (and per value of any other axis but the x axis)."""
    others = [
        f"{k.split('.')[-1]}={v}" for k, v in report.axes.items() if k not in (x_key, "optimizer")
    ]
    return " ".join([report.optimizer, *others])


def theory_at(report: PointReport, momentum: float) -> float | None:
    p = report.params
    task = {"name": p.get("task.name"), "a": p.get("task.a"), "condition": p.get("task.condition")}
    return theoretical_limit(
        {"task": task, "optimizer": {"name": report.optimizer, "momentum": momentum}}
    )


def boundary_png(reports: list[PointReport], title: str) -> bytes:
    x_key = second_axis(reports)
    figure = Figure(figsize=(7.5, 5))
    axes = figure.add_subplot()
    lines = defaultdict(list)
    for report in reports:
        lines[line_key(report, x_key)].append(report)
    for index, (name, members) in enumerate(sorted(lines.items())):
        color = f"C{index % 10}"
        if x_key is None:
            xs = [reports.index(r) for r in members]
        elif all(x_key in r.axes for r in members):
            members.sort(key=lambda r: float(r.axes[x_key]))
            xs = [float(r.axes[x_key]) for r in members]
        else:
            # No value on the x axis (sgd has no momentum): one level across the whole axis.
            _level(axes, members[0], color, name)
            continue
        _measured(axes, xs, members, color, name)
        _theory(axes, xs, members, color, name, x_key)
    if x_key is None:
        axes.set_xticks(range(len(reports)), [r.label for r in reports], rotation=30, ha="right")
    else:
        axes.set_xlabel(x_key)
    axes.set_yscale("log")
    axes.margins(x=0.1)  # room for the lr* labels beside the outermost points
    axes.yaxis.set_major_formatter(FormatStrFormatter("%g"))
    axes.yaxis.set_minor_formatter(FormatStrFormatter("%g"))
    axes.tick_params(axis="y", which="both", labelsize=8)
    axes.set_ylabel("critical learning rate lr*")
    axes.set_title(title, fontsize=10)
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize=8, loc="best")
    return to_png(figure, tight=True)


def _measured(axes, xs, members, color, name) -> None:
    found = [(x, r) for x, r in zip(xs, members, strict=True) if r.lr_star is not None]
    if found:
        stars = np.array([r.lr_star for _, r in found])
        below = [r.lr_star - r.low for _, r in found]
        above = [r.high - r.lr_star for _, r in found]
        axes.errorbar(
            [x for x, _ in found],
            stars,
            yerr=np.array([below, above]),
            fmt="o",
            color=color,
            capsize=5,
            ms=6,
            label=f"{name}: measured",
        )
    for x, r in found:
        axes.annotate(
            f"{r.lr_star:.3g}",
            (x, r.lr_star),
            xytext=(7, 3),
            textcoords="offset points",
            fontsize=7,
            color=color,
        )
    for x, r in zip(xs, members, strict=True):
        if r.status == NO_DIVERGENCE:
            axes.plot(x, r.high, "^", color=color, mfc="none", ms=9)
        elif r.status == DIVERGES_AT_LOW:
            axes.plot(x, r.low, "v", color=color, mfc="none", ms=9)


def _level(axes, report: PointReport, color, name) -> None:
    """A point without the x axis: its bracket as a band, lr* and theory as horizontal lines."""
    if report.lr_star is not None:
        axes.axhspan(report.low, report.high, color=color, alpha=0.25, lw=0)
        axes.axhline(report.lr_star, color=color, lw=1.5, label=f"{name}: measured")
    if report.theory is not None:
        axes.axhline(report.theory, color=color, ls="--", lw=1, label=f"{name}: {THEORY}")


def _theory(axes, xs, members, color, name, x_key) -> None:
    if members[0].theory is None:
        return
    if x_key == "optimizer.momentum":
        # The limit is a smooth function of momentum: draw it between the measured points too.
        xs = np.linspace(min(xs), max(xs), 200)
        limits = [theory_at(members[0], float(m)) for m in xs]
    else:
        limits = [r.theory for r in members]
    style = "_" if x_key is None else "--"
    axes.plot(xs, limits, style, color=color, lw=1, ms=18, mew=2, label=f"{name}: {THEORY}")
