"""Turn a resolved config into objects: the task through `_target_`, the optimizer as a partial."""

from hydra.utils import instantiate


def _without_name(node: dict) -> dict:
    return {key: value for key, value in node.items() if key != "name"}


def build_task(task_cfg: dict, seed: int):
    return instantiate(_without_name(task_cfg), seed=seed)


def build_optimizer(optimizer_cfg: dict, params):
    """`_partial_: true` makes instantiate return a factory; the parameters exist only now."""
    factory = instantiate(_without_name(optimizer_cfg))
    return factory(params)
