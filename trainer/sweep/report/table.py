"""A sweep's summary of its rows: counts, the best trials, results.csv and the printed table."""

import csv
import io

from trainer import contract
from trainer.contract import FINAL_KEYS, FINAL_TRAIN_LOSS
from trainer.sweep.plan.ranking import Ranking
from trainer.sweep.record.rows import Row
from trainer.training.result import CONVERGED, DIVERGED, FAILED


def counts(rows: list[Row], ranking: Ranking) -> dict[str, float]:
    """The parent run's metrics: trials, converged, diverged, failed, best_final_loss (the
    lowest final training loss) and best_<metric> (the ranking's best value)."""
    converged = [r for r in rows if r.outcome == CONVERGED]
    metrics = {
        contract.TRIALS: len(rows),
        CONVERGED: len(converged),
        DIVERGED: sum(r.outcome == DIVERGED for r in rows),
        FAILED: sum(r.outcome == FAILED for r in rows),
    }
    train_losses = [r.final[FINAL_TRAIN_LOSS] for r in best(rows, Ranking())]
    if train_losses:
        metrics[contract.BEST_FINAL_LOSS] = train_losses[0]
    ranked = best(rows, ranking)
    if ranked:
        metrics[ranking.best_key] = ranked[0].final[ranking.metric]
    return metrics


def best(rows: list[Row], ranking: Ranking) -> list[Row]:
    """Converged trials that have the ranking's metric, best first."""
    scored = [r for r in rows if r.outcome == CONVERGED and ranking.metric in r.final]
    return sorted(scored, key=lambda r: ranking.sort_key(r.final[ranking.metric]))


def results_csv(rows: list[Row]) -> str:
    config_keys = sorted({key for row in rows for key in row.params})
    columns = [
        "trial_id",
        "run_name",
        "outcome",
        *FINAL_KEYS,
        "divergence_step",
        "divergence_reason",
        "wall_time",
        "node",
        *config_keys,
    ]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns)
    writer.writeheader()
    for row in rows:
        writer.writerow(
            {
                "trial_id": row.trial_id,
                "run_name": row.name,
                "outcome": row.outcome,
                **{key: row.final.get(key, "") for key in FINAL_KEYS},
                "divergence_step": "" if row.divergence_step is None else row.divergence_step,
                "divergence_reason": row.divergence_reason,
                "wall_time": f"{row.wall_time:.4f}",
                "node": row.node,
                **{key: row.params.get(key, "") for key in config_keys},
            }
        )
    return out.getvalue()


def table(rows: list[Row], wall_time: float, cpus: int, ranking: Ranking, top: int = 5) -> str:
    """The short text printed when a sweep ends."""
    metrics = counts(rows, ranking)
    lines = [
        f"{metrics[contract.TRIALS]} trials: {metrics[CONVERGED]} converged, "
        f"{metrics[DIVERGED]} diverged, {metrics[FAILED]} failed; "
        f"wall time {wall_time:.1f} s on {cpus} CPUs",
    ]
    ranked = best(rows, ranking)[:top]
    if ranked:
        lines.append(f"best trials by {ranking.metric} ({ranking.mode}):")
        width = max(len(r.name) for r in ranked)
        lines.append(f"{'':<{width}}  " + "  ".join(f"{k:>18}" for k in FINAL_KEYS))
        for row in ranked:
            cells = [
                f"{row.final[k]:>18.6g}" if k in row.final else f"{'-':>18}" for k in FINAL_KEYS
            ]
            lines.append(f"{row.name:<{width}}  " + "  ".join(cells))
    diverged = sorted((r for r in rows if r.outcome == DIVERGED), key=lambda r: r.divergence_step)
    if diverged:
        shown = ", ".join(f"{r.name} (step {r.divergence_step})" for r in diverged[:4])
        more = f" and {len(diverged) - 4} more" if len(diverged) > 4 else ""
        lines.append(f"diverged: {shown}{more}")
    return "\n".join(lines)
