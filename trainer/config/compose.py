"""Compose configs with Hydra and check them at the edge, turning a user's mistake into one line."""

import hashlib
import json
import re
from contextlib import contextmanager

from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.errors import (
    ConfigCompositionException,
    HydraException,
    InstantiationException,
    MissingConfigException,
    OverrideParseException,
)
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from trainer.config import targets
from trainer.config.errors import ConfigError
from trainer.config.ranges import check_ranges
from trainer.config.schema import CONF_DIR, DivergenceConf, TrainerConf, register_schemas
from trainer.training.build import build_optimizer, build_task

# The groups that define a training run; the others (tracking, ray, sweep) configure a session.
TRIAL_GROUPS = ("optimizer", "task", "trainer")


@contextmanager
def hydra_context():
    """Hydra's compose API over the project's conf/ directory, schemas registered."""
    register_schemas()
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3", job_name="gradsweep"):
        yield GlobalHydra.instance().config_loader()


def compose_config(config_name: str, overrides: list[str]) -> DictConfig:
    """Compose `conf/<config_name>.yaml` with overrides (inside `hydra_context`)."""
    for override in overrides:
        if re.match(r"[+~]*hydra\b", override):
            # Compose leaves Hydra's own node out: such a setting would be silently dropped.
            raise stray_key("hydra")
    try:
        return compose(config_name=config_name, overrides=list(overrides))
    except (HydraException, OmegaConfBaseException) as error:
        raise ConfigError(describe_hydra_error(error)) from None
    except ValueError as error:
        # Hydra raises a bare ValueError for some malformed group overrides, e.g. `=3`.
        raise ConfigError(f"malformed override among {' '.join(overrides)}: {error}") from None


def describe_hydra_error(error: Exception) -> str:
    """One line from Hydra's multi-line messages: which key or option, and what is allowed."""
    message = str(error)
    if isinstance(error, OverrideParseException):
        detail = message.splitlines()[0]
        if error.__cause__ is not None:
            # A sweep function's own complaint: `logspace(1,0,3)` needs stop > 0.
            detail = str(error.__cause__).splitlines()[0]
        return f"malformed override '{error.override}': {detail}"
    if isinstance(error, MissingConfigException) and error.options and error.missing_cfg_file:
        # Hydra names the missing file `group/option` and lists the group's options itself.
        group, _, option = error.missing_cfg_file.rpartition("/")
        return f"{group}={option} is not an option; allowed: {', '.join(error.options)}"
    swept = re.search(r"(?:Ambiguous value for argument|Sweep parameters) '([^']+)'", message)
    if swept:
        return (
            f"{swept.group(1)} is a sweep, and this command runs one config: give one value, "
            "or sweep it with scripts/sweep.py"
        )
    if isinstance(error, ConfigCompositionException):
        unknown = re.search(r"Could not override '([^']+)'", message)
        if unknown:
            key = unknown.group(1)
            return f"{key} is not a config key (a new key is added with +{key}=...)"
        merging = re.search(r"Error merging override (\S+)", message)
        if merging and error.__cause__ is not None:
            reason = str(error.__cause__).splitlines()[0]
            return f"{merging.group(1)} is not allowed: {reason}"
    return next(line for line in message.splitlines() + [type(error).__name__] if line.strip())


def first_line(error: Exception) -> str:
    return str(error).splitlines()[0].split(", set env var HYDRA_FULL_ERROR")[0]


def to_plain(cfg) -> dict:
    """`cfg` as plain containers, interpolations resolved; one that fails is the user's mistake."""
    if not isinstance(cfg, DictConfig):
        return cfg
    try:
        return OmegaConf.to_container(cfg, resolve=True)
    except OmegaConfBaseException as error:
        raise ConfigError(describe_resolution_error(cfg, error)) from None


def describe_resolution_error(cfg: DictConfig, error: OmegaConfBaseException) -> str:
    """`optimizer.lr=${task.name} cannot be resolved: <why>`, in one line."""
    key = getattr(error, "full_key", None) or ""
    written = OmegaConf.to_container(cfg, resolve=False)
    for part in key.split(".") if key else []:
        written = written.get(part) if isinstance(written, dict) else None
    shown = f"{key}={written}" if isinstance(written, str) else key or "a config value"
    reason = next((line for line in str(error).splitlines() if line.strip()), type(error).__name__)
    return f"{shown} cannot be resolved: {reason}"


def trial_config(plain: dict) -> dict:
    """The part of a composed config that defines a training run (no tracking, Ray or sweep)."""
    for group in TRIAL_GROUPS:
        if not isinstance(plain.get(group), dict):
            raise ConfigError(f"{group} is required: choose one of conf/{group}/*.yaml")
    stray = sorted(set(plain) - {*TRIAL_GROUPS, "tracking"})
    if stray:
        raise stray_key(stray[0])
    return {group: plain[group] for group in TRIAL_GROUPS}


def stray_key(key: str) -> ConfigError:
    """A key outside every config group: Hydra would keep it, and nothing would read it."""
    if key == "hydra":
        return ConfigError(
            "hydra.* is not allowed: Hydra's own settings have no effect here; set keys of "
            "optimizer, task, trainer, tracking, ray or sweep"
        )
    return ConfigError(
        f"{key} is not allowed: a setting belongs to a group, "
        f"e.g. optimizer.{key}, task.{key} or trainer.{key}"
    )


def digest(value) -> str:
    """A short hash of plain data, the same on every machine and run."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def trial_id(config: dict) -> str:
    """A trial's identity: a hash of its resolved config."""
    return digest(config)


def sweep_id(trial_ids, fixed: dict[str, str]) -> str:
    """A sweep's identity: the same expanded grid and fixed overrides, the same sweep, which is
    what a rerun uses to resume."""
    return digest({"trials": sorted(trial_ids), "fixed": fixed})


class TrialChecker:
    """Checks the ranges of a trial's config; builds each distinct task once to ask its size,
    and checks the classes and keys of each distinct shape of config once."""

    def __init__(self):
        self._task_rows: dict[str, int | None] = {}
        self._shapes: set = set()

    def check(self, cfg: dict) -> None:
        # Before anything is built: building calls the classes the config names. What they
        # check depends on the config's shape alone (its keys, nesting and targets), which
        # the points of a grid share: checked once per shape.
        shape = targets.target_shape(cfg)
        if shape not in self._shapes:
            targets.check_targets(cfg)
            self._shapes.add(shape)
        self._check_optimizer(cfg["optimizer"])
        trainer = cfg["trainer"]
        try:
            check_ranges("trainer", trainer, TrainerConf.ranges)
            check_ranges("trainer.divergence", trainer["divergence"], DivergenceConf.ranges)
        except ValueError as error:
            raise ConfigError(str(error)) from None
        rows = self._training_rows(cfg["task"], trainer["seed"])
        if rows is not None and trainer["batch_size"] > rows:
            raise ConfigError(
                f"trainer.batch_size={trainer['batch_size']} is not allowed: task "
                f"{cfg['task'].get('name')} has {rows} training rows, so it must be <= {rows}"
            )

    @staticmethod
    def _check_optimizer(optimizer_cfg: dict) -> None:
        """The optimizer class itself knows its hyperparameters' ranges: ask it, with no params."""
        try:
            build_optimizer(optimizer_cfg, [])
        except ValueError as error:
            raise ConfigError(f"optimizer.{error}") from None
        except TypeError as error:
            # A hyperparameter the optimizer class does not take, e.g. a user's own class.
            raise ConfigError(f"optimizer: {error}") from None
        except InstantiationException as error:
            raise ConfigError(f"optimizer: {first_line(error)}") from None

    def _training_rows(self, task_cfg: dict, seed: int) -> int | None:
        key = json.dumps(task_cfg, sort_keys=True)
        if key not in self._task_rows:
            try:
                self._task_rows[key] = build_task(task_cfg, seed=seed).n_train
            except ValueError as error:
                raise ConfigError(str(error)) from None
            except InstantiationException as error:
                cause = error.__cause__
                if isinstance(cause, ValueError):
                    raise ConfigError(str(cause)) from None
                raise ConfigError(f"task: {first_line(error)}") from None
        return self._task_rows[key]
