"""Names from a config: its flattened keys (a run's params) and a readable run name."""

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


def run_name(config: dict, keys=None) -> str:
    """A readable label such as `momentum lr=0.1 m=0.9`, from the given (or optimizer's) keys."""
    optimizer = config["optimizer"]
    if keys is None:
        keys = [
            f"optimizer.{k}"
            for k, v in optimizer.items()
            if k not in ("_target_", "_partial_", "name") and isinstance(v, (int, float))
        ]
    flat = flatten(config)
    parts = [optimizer.get("name", optimizer["_target_"])]
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
