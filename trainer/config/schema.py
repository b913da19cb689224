"""Structured-config schemas that type-check every config group, kept in Hydra's ConfigStore.

Hydra's pattern: a schema holds the types, a group's yaml extends it (`/schema/<group>/<option>`)
and holds the values. An optimizer's or a task's schema is not written here but derived from its
class's signature, so a hyperparameter's default lives once, in the class; the yaml sets only
what the class leaves open (an optimizer's lr). Trainer ranges sit beside the trainer's keys.
"""

import importlib
import inspect
import typing
from collections.abc import Sequence
from dataclasses import dataclass, field, make_dataclass
from functools import cache
from pathlib import Path
from typing import Any, ClassVar

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING, OmegaConf

from optimizers.hyperparameters import POSITIVE, Interval
from trainer.config.ranges import AT_LEAST_ONE, AT_LEAST_ZERO

CONF_DIR = Path(__file__).resolve().parents[2] / "conf"


@dataclass
class OptimizerConf:
    _target_: str = MISSING
    _partial_: bool = True
    name: str = MISSING
    lr: float = MISSING


@dataclass
class TaskConf:
    _target_: str = MISSING
    name: str = MISSING


@dataclass
class DivergenceConf:
    factor: float = MISSING

    ranges: ClassVar[dict[str, Interval]] = {"factor": Interval(1.0)}


@dataclass
class TrainerConf:
    steps: int = MISSING
    batch_size: int = MISSING
    eval_every: int = MISSING
    seed: int = MISSING
    log_every: int = MISSING
    divergence: DivergenceConf = field(default_factory=DivergenceConf)

    ranges: ClassVar[dict[str, Interval]] = {
        "steps": POSITIVE,
        "batch_size": POSITIVE,
        "eval_every": POSITIVE,
        "seed": AT_LEAST_ZERO,
        "log_every": AT_LEAST_ZERO,
    }


# Session settings: a null value means "the default" and is not range-checked.
@dataclass
class TrackingConf:
    enabled: bool = MISSING
    uri: str | None = MISSING
    experiment: str = MISSING
    retry_seconds: float = MISSING  # how long a transient store error is retried before spooling
    # A child run per trial (the default), or false: the sweep's parent run alone, its trials'
    # results one columnar table artifact, for grids of thousands.
    children: bool = True

    ranges: ClassVar[dict[str, Interval]] = {"retry_seconds": AT_LEAST_ZERO}


@dataclass
class RayConf:
    address: str = MISSING
    num_cpus: int | None = MISSING
    dashboard: bool = False  # a local Ray also serves its dashboard on 127.0.0.1

    ranges: ClassVar[dict[str, Interval]] = {"num_cpus": AT_LEAST_ONE}


@dataclass
class BoundaryConf:
    """`sweep.search=boundary`: the lr bracket each point starts from, and when to stop."""

    low: float = 1e-3
    high: float = 10.0
    rtol: float = 0.02
    max_decades: int = 3
    probes: int | None = None
    max_rounds: int | None = None

    # rtol: probes carry 6 significant digits, so a finer width could not be resolved.
    ranges: ClassVar[dict[str, Interval]] = {
        "low": POSITIVE,
        "high": POSITIVE,
        "rtol": Interval(1e-4, 1.0, low_closed=True, high_closed=True),
        "max_decades": AT_LEAST_ZERO,
        "probes": AT_LEAST_ONE,
        "max_rounds": AT_LEAST_ONE,
    }


@dataclass
class HalvingConf:
    """`sweep.search=halving`: the steps of the first rung, and the factor between rungs."""

    min_steps: int | None = None  # None: the step budget divided by eta three times
    eta: int = 3

    ranges: ClassVar[dict[str, Interval]] = {
        "min_steps": AT_LEAST_ONE,
        "eta": Interval(2, low_closed=True),
    }


@dataclass
class LrRangeConf:
    """`sweep.search=lr_range`: the learning rate grows geometrically from `low` to `high` over
    the trainer's steps, and the test stops once the loss exceeds `stop` times its best."""

    low: float = 1e-5
    high: float = 10.0
    stop: float = 4.0

    ranges: ClassVar[dict[str, Interval]] = {
        "low": POSITIVE,
        "high": POSITIVE,
        "stop": Interval(1.0, low_closed=False),
    }


@dataclass
class SweepConf:
    name: str = MISSING
    params: dict[str, str] = field(default_factory=dict)
    dry_run: bool = False
    trials_per_task: int | None = None
    # Trials that share task, optimizer, architecture, batch size and step budget train as one
    # vectorised program (trainer/training/population.py), each exactly as it would alone.
    vectorize: bool = True
    search: str = "grid"
    # random, sobol, tpe and halving: how many configurations, drawn from which seed.
    n_trials: int = 16
    seed: int = 0
    # Every configuration with this many seeds (trainer.seed = 0 .. seeds-1), aggregated over
    # them by `aggregate` (mean or median) in the ranking (trainer/sweep/report/configs.py).
    seeds: int | None = None
    aggregate: str = "mean"
    boundary: BoundaryConf = field(default_factory=BoundaryConf)
    halving: HalvingConf = field(default_factory=HalvingConf)
    lr_range: LrRangeConf = field(default_factory=LrRangeConf)
    # Which final_* metric ranks the trials; empty: chosen by task (trainer/sweep/plan/ranking.py).
    metric: str = ""
    mode: str = ""
    ui: bool = False  # after the sweep, serve its sqlite store with `mlflow ui` until Ctrl-C

    ranges: ClassVar[dict[str, Interval]] = {
        "trials_per_task": AT_LEAST_ONE,
        "n_trials": AT_LEAST_ONE,
        "seed": AT_LEAST_ZERO,
        "seeds": AT_LEAST_ONE,
    }


SCHEMAS = {
    "trainer": {"trainer": TrainerConf},
    "tracking": {"tracking": TrackingConf},
    "ray": {"ray": RayConf},
    "sweep": {"sweep": SweepConf},
}
# Groups whose options are classes: each yaml's `_target_` names the class the schema comes from.
DERIVED = {"optimizer": OptimizerConf, "task": TaskConf}
# Arguments the trainer passes itself, not read from the config.
NOT_CONFIGURED = ("self", "params", "seed")


def schema_of(cls: type, base: type) -> type:
    """A dataclass extending `base` with one field per argument of `cls`, typed and defaulted
    as the class declares them. An optimizer's hyperparameters are floats in a config (the class
    also takes arrays, to train many configurations at once)."""
    hints = typing.get_type_hints(cls.__init__)
    fields = []
    for name, parameter in inspect.signature(cls.__init__).parameters.items():
        if name in NOT_CONFIGURED or parameter.kind is parameter.VAR_KEYWORD:
            continue
        kind = float if base is OptimizerConf else config_type(hints.get(name, Any))
        fields.append((name, kind, default_of(parameter.default)))
    schema = make_dataclass(f"{cls.__name__}Conf", fields, bases=(base,))
    schema.__module__ = __name__
    return schema


def config_type(hint):
    """OmegaConf's spelling of a type: a sequence argument is a list in a config."""
    if typing.get_origin(hint) in (Sequence, tuple, list):
        return list[typing.get_args(hint)[0]]
    return hint


def default_of(value):
    if value is inspect.Parameter.empty:
        return field(default=MISSING)
    if isinstance(value, (tuple, list)):
        return field(default_factory=lambda: list(value))
    return field(default=value)


@cache
def derived_schemas() -> dict[str, dict[str, type]]:
    """group -> option -> schema, for every `conf/<group>/<option>.yaml` of the derived groups."""
    schemas = {}
    for group, base in DERIVED.items():
        schemas[group] = {}
        for path in sorted((CONF_DIR / group).glob("*.yaml")):
            cls = class_named(OmegaConf.load(path).get("_target_"))
            schemas[group][path.stem] = base if cls is None else schema_of(cls, base)
    return schemas


def class_named(target: str | None) -> type | None:
    """The class a yaml's `_target_` names, or None when it cannot be imported: then the option
    gets the group's base schema and its first use fails in one line, like any bad `_target_`,
    while every other option keeps working."""
    module, _, name = (target or "").rpartition(".")
    try:
        found = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError, ValueError):
        return None
    return found if isinstance(found, type) else None


def register_schemas() -> None:
    """Store each schema as `schema/<group>/<option>`, which the group's yaml files extend."""
    store = ConfigStore.instance()
    for group, schemas in {**SCHEMAS, **derived_schemas()}.items():
        for option, node in schemas.items():
            store.store(group=f"schema/{group}", name=option, node=node)
