"""What a config's `_target_` may name, checked by importing alone, before anything is called."""

import dataclasses
import importlib
import inspect
from collections.abc import Mapping
from types import ModuleType

from omegaconf import DictConfig, ListConfig, OmegaConf

from optimizers import Optimizer
from trainer.config.errors import ConfigError
from trainer.config.schema import NOT_CONFIGURED, TrainerConf
from trainer.tasks.base import Task

# group -> (the base class its `_target_` must subclass, its public path, an example)
GROUP_BASES = {
    "optimizer": (Optimizer, "optimizers.Optimizer", "optimizers.Adam"),
    "task": (Task, "trainer.tasks.base.Task", "trainer.tasks.quadratic.Quadratic"),
}


def check_target(group: str, target) -> type:
    """The class `<group>._target_` names, or ConfigError in one line naming the key and what is
    allowed. Only imports run: no constructor, no call."""
    base, base_path, example = GROUP_BASES[group]

    def refuse(reason: str) -> ConfigError:
        return ConfigError(
            f"{group}._target_={target} is not allowed: {reason}; "
            f"it must name a subclass of {base_path}, e.g. {example}"
        )

    try:
        found = locate(target)
    except TargetError as error:
        raise refuse(str(error)) from None
    if not isinstance(found, type):
        raise refuse(f"{target} is a {type(found).__name__}, not a class")
    if not issubclass(found, base) or found is base:
        raise refuse(f"{target} is not a subclass of {base_path}")
    return found


class TargetError(Exception):
    """Why a dotted path names nothing: one line."""


def locate(target):
    """The object a dotted path names: its top module imported, then attributes or submodules.
    Nothing is called but the imports."""
    parts = target.split(".") if isinstance(target, str) else []
    if len(parts) < 2 or not all(part.isidentifier() for part in parts):
        raise TargetError("it is not a dotted path to a class")
    found = _import_module(parts[0])
    if found is None:
        raise TargetError(f"no module named '{parts[0]}'")
    for end, attribute in enumerate(parts[1:], start=1):
        name = ".".join(parts[:end])
        if not hasattr(found, attribute) and isinstance(found, ModuleType):
            _import_module(f"{name}.{attribute}")
        if not hasattr(found, attribute):
            raise TargetError(f"{name} has no attribute '{attribute}'")
        found = getattr(found, attribute)
    return found


def _import_module(name: str) -> ModuleType | None:
    """The module `name`, or None if there is none; a module that fails while loading is the
    user's mistake, reported in one line."""
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as error:
        if error.name == name:
            return None
        raise TargetError(f"importing {name} failed: {error}") from None
    except Exception as error:
        detail = (str(error).splitlines() or [""])[0]
        raise TargetError(f"importing {name} failed: {type(error).__name__}: {detail}") from None


def find_nested_targets(cfg, group: str) -> list[str]:
    """The keys of every `_target_` inside `cfg[group]` other than the group's own
    `<group>._target_` (for optimizer and task), e.g. `task.foo._target_`: Hydra would call
    them when the group is built."""
    node = _plain_group(cfg, group)
    found = [] if group in GROUP_BASES or "_target_" not in node else [f"{group}._target_"]
    for key, value in node.items():
        if key != "_target_":
            found.extend(_targets_below(value, f"{group}.{key}"))
    return found


def _plain_group(cfg, group: str) -> dict:
    """`cfg[group]` as plain containers, interpolations left unresolved: checking runs nothing."""
    node = cfg.get(group) if isinstance(cfg, Mapping) else None
    if isinstance(node, DictConfig | ListConfig):
        node = OmegaConf.to_container(node, resolve=False)
    return node if isinstance(node, Mapping) else {}


def _targets_below(value, path: str) -> list[str]:
    if isinstance(value, Mapping):
        found = [f"{path}._target_"] if "_target_" in value else []
        for key, inner in value.items():
            found.extend(_targets_below(inner, f"{path}.{key}"))
        return found
    if isinstance(value, list):
        found = []
        for i, inner in enumerate(value):
            found.extend(_targets_below(inner, f"{path}[{i}]"))
        return found
    return []


def check_targets(cfg, groups=("optimizer", "task", "trainer")) -> None:
    """Every `_target_` of a trial's config: nested ones refused, the groups' own checked, and
    each group's keys ones its class takes (a key added with `+` is no exception)."""
    for group in groups:
        nested = find_nested_targets(cfg, group)
        if nested:
            raise ConfigError(
                f"{nested[0]} is not allowed: a class may be named only by "
                f"{' or '.join(f'{name}._target_' for name in GROUP_BASES)}"
            )
        node = _plain_group(cfg, group)
        if group in GROUP_BASES:
            cls = check_target(group, node.get("_target_"))
            check_keys(group, node, arguments_of(cls), node["_target_"], NODE_KEYS[group])
        elif group == "trainer":
            check_schema_keys(group, node, TrainerConf)
    partial = _plain_group(cfg, "optimizer").get("_partial_", True)
    if "optimizer" in groups and partial is not True:
        raise ConfigError(
            f"optimizer._partial_={partial} is not allowed: it must be true, the trainer "
            "passes the parameters when it builds the optimizer"
        )


# The values `check_targets` reads; of every other value it reads only where it sits.
SHAPE_VALUES = ("_target_", "_partial_")


def target_shape(cfg, groups=("optimizer", "task", "trainer")):
    """What `check_targets(cfg, groups)` depends on, hashable: each group's keys and nesting,
    with the values of `_target_` and `_partial_`; configs of one shape pass or fail alike."""
    return tuple(_shape(_plain_group(cfg, group)) for group in groups)


def _shape(value):
    if isinstance(value, Mapping):
        return tuple(
            (key, repr(inner) if key in SHAPE_VALUES else _shape(inner))
            for key, inner in value.items()
        )
    if isinstance(value, list):
        return ("[]", *(_shape(inner) for inner in value))
    return None


# Keys of an optimizer or task node that are not constructor arguments: Hydra's and the name.
NODE_KEYS = {"optimizer": ("_target_", "_partial_", "name"), "task": ("_target_", "name")}


def arguments_of(cls: type) -> set[str] | None:
    """The keyword arguments `cls(...)` takes from a config, or None when it takes any. An
    optimizer's `**hyperparameters` are its declared `ranges`: the base class insists on them."""
    parameters = inspect.signature(cls.__init__).parameters.values()
    named = {p.name for p in parameters if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}
    if any(p.kind is p.VAR_KEYWORD for p in parameters):
        if not issubclass(cls, Optimizer):
            return None
        named |= set(cls.ranges)
    return named - set(NOT_CONFIGURED)


def check_keys(
    group: str, node: dict, allowed: set[str] | None, owner: str, exempt: tuple = ()
) -> None:
    """Each key of `node` is one `owner` takes (None: it takes any), or one of `exempt`."""
    if allowed is None:
        return
    for key in node:
        if key not in allowed and key not in exempt:
            raise ConfigError(
                f"{group}.{key} is not allowed: {owner} takes {', '.join(sorted(allowed))}"
            )


def check_schema_keys(group: str, node: dict, schema: type) -> None:
    """`node`'s keys, nested ones too, must be fields of the dataclass `schema`."""
    fields = {field.name: field.type for field in dataclasses.fields(schema)}
    check_keys(group, node, set(fields), group)
    for key, value in node.items():
        if dataclasses.is_dataclass(fields[key]) and isinstance(value, Mapping):
            check_schema_keys(f"{group}.{key}", value, fields[key])
