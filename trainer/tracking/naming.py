"""Names from a config: its flattened keys (a run's params) and a readable run name."""

import math

from trainer.contract import LOG10_LR, hyperparameters

SHORT_NAMES = {"momentum": "m", "trainer.seed": "seed"}


def flatten(config: dict, prefix: str = "") -> dict[str, str]:
    """{'optimizer': {'lr': 0.1}} -> {'optimizer.lr': '0.1'}: the run's params."""
    flat = {}
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = str(value)
    return flat


def optimizer_name(optimizer: dict) -> str:
    """The option's name (`momentum`), or the class path of a user's own optimizer."""
    return optimizer.get("name", optimizer["_target_"])


def numeric_hyperparameters(optimizer: dict) -> dict:
    """The hyperparameters a label shows: the numeric ones."""
    return {k: v for k, v in hyperparameters(optimizer).items() if isinstance(v, (int, float))}


def run_params(config: dict) -> dict[str, str]:
    """A run's params: the flattened config, plus lr's exponent (`log10_lr`). Learning rates are
    swept in decades, and MLflow's contour and parallel-coordinates charts have linear axes."""
    params = flatten(config)
    lr = config.get("optimizer", {}).get("lr")
    if isinstance(lr, (int, float)) and lr > 0:
        params[LOG10_LR] = f"{math.log10(lr):.4g}"
    return params


def run_name(config: dict, keys=None) -> str:
    """A readable label such as `momentum lr=0.1 m=0.9`, from the given (or optimizer's) keys."""
    optimizer = config["optimizer"]
    if keys is None:
        keys = [f"optimizer.{k}" for k in numeric_hyperparameters(optimizer)]
    flat = flatten(config)
    parts = [optimizer_name(optimizer)]
    for key in keys:
        if key in flat and key not in ("optimizer", "optimizer.name"):
            short = SHORT_NAMES.get(key, SHORT_NAMES.get(key.split(".")[-1], key.split(".")[-1]))
            parts.append(f"{short}={_compact(flat[key])}")
    return " ".join(parts)


def _compact(text: str) -> str:
    try:
        return f"{float(text):g}"
    except ValueError:
        return text
