"""Which final metric decides a sweep's "best" trials (`sweep.metric`, `sweep.mode`)."""

from dataclasses import dataclass

from hydra.utils import get_class

from trainer.config.errors import ConfigError
from trainer.contract import FINAL_KEYS, FINAL_TRAIN_LOSS, FINAL_VAL_LOSS
from trainer.sweep.plan.grid import Grid
from trainer.tasks.base import Task

MODES = ("min", "max")
AGGREGATES = ("mean", "median")


@dataclass(frozen=True)
class Ranking:
    """A final_* metric, whether its min or its max is best, and how a configuration's seeds
    are aggregated (mean or median)."""

    metric: str = FINAL_TRAIN_LOSS
    mode: str = "min"
    aggregate: str = "mean"

    @property
    def best_key(self) -> str:
        """The parent run's metric holding the best trial's value, e.g. best_final_val_loss."""
        return f"best_{self.metric}"

    def best(self, values: list[float]) -> float:
        return min(values) if self.mode == "min" else max(values)

    def sort_key(self, value: float) -> float:
        return value if self.mode == "min" else -value


def choose_ranking(sweep_cfg: dict, grid: Grid) -> Ranking:
    """The sweep's ranking, checked against its tasks before anything starts.

    An empty metric means final_val_loss where every task has validation data (it implements
    `evaluate`), else final_train_loss: a held-out loss does not reward overfitting. An empty
    mode means min for a loss and max for an accuracy; the other way round is refused, since
    ranking the worst trial first is never what was meant.
    """
    tasks = [trial.config["task"] for trial in grid.trials]
    without_validation = sorted(
        {task.get("name", task["_target_"]) for task in tasks if not _has_validation(task)}
    )
    metric = sweep_cfg.get("metric") or (FINAL_TRAIN_LOSS if without_validation else FINAL_VAL_LOSS)
    if metric not in FINAL_KEYS:
        raise ConfigError(
            f"sweep.metric={metric} is not allowed: use one of {', '.join(FINAL_KEYS)}, "
            "or leave it empty to choose by task"
        )
    if metric != FINAL_TRAIN_LOSS and without_validation:
        raise ConfigError(
            f"sweep.metric={metric} is not allowed: task {without_validation[0]} has no "
            "validation data; use final_train_loss"
        )
    natural = "max" if metric.endswith("accuracy") else "min"
    mode = sweep_cfg.get("mode") or natural
    if mode not in MODES:
        raise ConfigError(f"sweep.mode={mode} is not allowed: use min or max")
    if mode != natural:
        raise ConfigError(
            f"sweep.mode={mode} is not allowed with sweep.metric={metric}: the best "
            f"{metric.split('_')[-1]} is its {natural}imum; use sweep.mode={natural}"
        )
    aggregate = sweep_cfg.get("aggregate") or "mean"
    if aggregate not in AGGREGATES:
        raise ConfigError(f"sweep.aggregate={aggregate} is not allowed: use mean or median")
    return Ranking(metric, mode, aggregate)


def _has_validation(task_cfg: dict) -> bool:
    return get_class(task_cfg["_target_"]).evaluate is not Task.evaluate
