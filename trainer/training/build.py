"""Turn a resolved config into objects: the task through `_target_`, the optimizer as a partial."""

import functools

from hydra.utils import instantiate

# Optimizer classes Hydra's instantiate has located and let through, by `_target_`: a sweep
# builds thousands of optimizers of one class, and instantiate costs milliseconds each.
_LOCATED: dict[str, type] = {}
PLAIN = (int, float, bool, str, type(None))


def _without_name(node: dict) -> dict:
    return {key: value for key, value in node.items() if key != "name"}


def build_task(task_cfg: dict, seed: int):
    return instantiate(_without_name(task_cfg), seed=seed)


def build_optimizer(optimizer_cfg: dict, params):
    """`_partial_: true` makes instantiate return a factory; the parameters exist only now.

    A config of plain values whose class instantiate has already located (and its target policy
    allowed) calls the class directly, as the factory would; anything else, such as a nested
    `_target_`, goes through instantiate every time."""
    node = _without_name(optimizer_cfg)
    target = node.get("_target_")
    hyperparameters = {k: v for k, v in node.items() if k not in ("_target_", "_partial_")}
    plain = node.get("_partial_") is True and all(
        not key.startswith("_") and isinstance(value, PLAIN)
        for key, value in hyperparameters.items()
    )
    if plain and target in _LOCATED:
        return _LOCATED[target](params, **hyperparameters)
    factory = instantiate(node)
    if plain and isinstance(factory, functools.partial) and isinstance(factory.func, type):
        _LOCATED[target] = factory.func
    return factory(params)
