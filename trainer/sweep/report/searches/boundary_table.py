"""A boundary search's results: one line per point, the printed table, boundary.csv, metrics."""

import csv
import io
import re
from dataclasses import dataclass, field

from trainer.sweep.plan.grid import Grid
from trainer.sweep.plan.searches.bisection import (
    DIVERGES_AT_LOW,
    FAILED_PROBE,
    FOUND,
    NO_DIVERGENCE,
    PointSearch,
)
from trainer.tracking.naming import flatten, run_name
from trainer.training.stability import theoretical_limit


@dataclass
class PointReport:
    """One point of the other axes: its final bracket, lr* (or why none), probes and theory."""

    label: str
    optimizer: str
    params: dict[str, str]
    status: str
    low: float
    high: float
    lr_star: float | None
    probes: int
    theory: float | None = None
    axes: dict[str, str] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        if self.lr_star is None or self.theory is None:
            return None
        return self.lr_star / self.theory

    def verdict(self) -> str:
        """What a point without an lr* found instead, in words."""
        if self.status == FOUND:
            return f"lr* = {self.lr_star:.6g}"
        if self.status == NO_DIVERGENCE:
            return (
                f"no divergence up to lr={self.high:g}: raise sweep.boundary.high "
                "or sweep.boundary.max_decades"
            )
        if self.status == DIVERGES_AT_LOW:
            return (
                f"diverges already at lr={self.low:g}: lower sweep.boundary.low "
                "or raise sweep.boundary.max_decades"
            )
        if self.status == FAILED_PROBE:
            return "a probe failed: see its child run's traceback.txt"
        return "unfinished"


def point_reports(grid: Grid, points: list[PointSearch]) -> list[PointReport]:
    reports = []
    for trial, point in zip(grid.trials, points, strict=True):
        flat = flatten(trial.config)
        reports.append(
            PointReport(
                label=run_name(trial.config, list(grid.axes)),
                optimizer=trial.config["optimizer"].get("name", "?"),
                params=flat,
                status=point.status,
                low=point.low,
                high=point.high,
                lr_star=point.lr_star,
                probes=point.probes_used,
                theory=theoretical_limit(trial.config),
                axes={key: flat[key] for key in grid.axes if key in flat},
            )
        )
    return reports


def metric_key(prefix: str, label: str) -> str:
    """`lr_star/momentum m:0.9`: MLflow allows letters, digits, _ - . space : / in a key."""
    return prefix + "/" + re.sub(r"[^\w.\- :]", "", label.replace("=", ":"))


def parent_metrics(reports: list[PointReport]) -> dict[str, float]:
    metrics = {"points": len(reports), "probes": sum(r.probes for r in reports)}
    metrics["points_found"] = sum(r.status == FOUND for r in reports)
    for report in reports:
        metrics[metric_key("probes", report.label)] = report.probes
        if report.lr_star is not None:
            metrics[metric_key("lr_star", report.label)] = report.lr_star
        if report.ratio is not None:
            metrics[metric_key("lr_star_over_theory", report.label)] = report.ratio
    return metrics


COLUMNS = ("point", "status", "lr_star", "low", "high", "probes", "theory", "ratio", "verdict")


def boundary_csv(reports: list[PointReport]) -> str:
    axis_keys = sorted({key for report in reports for key in report.axes})
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=[*COLUMNS, *axis_keys])
    writer.writeheader()
    for r in reports:
        writer.writerow(
            {
                "point": r.label,
                "status": r.status,
                "lr_star": "" if r.lr_star is None else repr(r.lr_star),
                "low": repr(r.low),
                "high": repr(r.high),
                "probes": r.probes,
                "theory": "" if r.theory is None else repr(r.theory),
                "ratio": "" if r.ratio is None else repr(r.ratio),
                "verdict": r.verdict(),
                **r.axes,
            }
        )
    return out.getvalue()


def boundary_table(reports: list[PointReport], reused: int, elapsed: float, cpus: int) -> str:
    """The summary printed at the end: lr* per point, its bracket, probes, ratio to theory."""
    probes = sum(r.probes for r in reports)
    lines = [
        f"{len(reports)} points, {probes} probes ({reused} read back from earlier runs); "
        f"wall time {elapsed:.1f} s on {cpus} CPUs"
    ]
    width = max([len(r.label) for r in reports] + [5])
    lines.append(
        f"{'point':<{width}}  {'lr*':>10}  {'bracket':>23}  {'probes':>6}  "
        f"{'theory':>10}  {'lr*/theory':>10}"
    )
    for r in reports:
        star = f"{r.lr_star:>10.5g}" if r.lr_star is not None else f"{'-':>10}"
        bracket = f"[{r.low:.5g}, {r.high:.5g}]"
        theory = f"{r.theory:>10.5g}" if r.theory is not None else f"{'-':>10}"
        ratio = f"{r.ratio:>10.4f}" if r.ratio is not None else f"{'-':>10}"
        lines.append(f"{r.label:<{width}}  {star}  {bracket:>23}  {r.probes:>6}  {theory}  {ratio}")
    lines += [f"{r.label}: {r.verdict()}" for r in reports if r.status != FOUND]
    return "\n".join(lines)
