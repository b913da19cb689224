"""A sweep's command line: session keys set apart, the rest expanded into checked trial configs."""

import copy
from dataclasses import dataclass, field

import numpy as np
from hydra._internal.config_loader_impl import ConfigLoaderImpl
from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.core.override_parser.overrides_parser import OverridesParser, create_functions
from hydra.core.override_parser.types import ChoiceSweep, Override
from hydra.errors import HydraException
from omegaconf import Container, DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from trainer.config.compose import (
    TRIAL_GROUPS,
    TrialChecker,
    compose_config,
    describe_hydra_error,
    sweep_id,
    to_plain,
    trial_config,
    trial_id,
)
from trainer.config.errors import ConfigError
from trainer.config.preflight import SESSION_GROUPS

_ABSENT = object()


def logspace(start: int | float, stop: int | float, num: int) -> ChoiceSweep:
    """`logspace(1e-3, 30, 8)`: num log-spaced values, rounded to 3 significant digits."""
    if not (start > 0 and stop > 0 and num > 0):
        raise ValueError("logspace(start, stop, num) needs start > 0, stop > 0 and num > 0")
    values = [float(f"{v:.3g}") for v in np.geomspace(start, stop, num)]
    return ChoiceSweep(list=values)


def make_parser(config_loader=None) -> OverridesParser:
    """Hydra's override parser with one more sweep function, `logspace`."""
    functions = create_functions()
    functions.register(name="logspace", func=logspace)
    return OverridesParser(functions=functions, config_loader=config_loader)


def parse(parser: OverridesParser, overrides: list[str]) -> list[Override]:
    try:
        return parser.parse_overrides(overrides)
    except HydraException as error:
        raise ConfigError(describe_hydra_error(error)) from None


def key_of(override: Override) -> str:
    return override.get_key_element().lstrip("+~")


def is_session_key(key: str) -> bool:
    return key.split(".")[0] in SESSION_GROUPS


@dataclass
class Trial:
    trial_id: str
    config: dict
    point: list[str]


@dataclass
class Grid:
    trials: list[Trial]
    axes: dict[str, list[str]] = field(default_factory=dict)
    fixed: dict[str, str] = field(default_factory=dict)

    @property
    def sweep_id(self) -> str:
        return sweep_id((t.trial_id for t in self.trials), self.fixed)

    def describe(self) -> str:
        """The grid as `sweep.dry_run=true` prints it: its shape, then one line per trial."""
        axes = " x ".join(f"{key} ({len(values)})" for key, values in self.axes.items()) or "none"
        fixed = ", ".join(f"{key}={value}" for key, value in self.fixed.items()) or "none"
        what = "points, lr searched" if self.fixed.get("sweep.search") == "boundary" else "trials"
        lines = [f"grid: {len(self.trials)} {what}; axes: {axes}; fixed: {fixed}"]
        lines += [f"{i:4d}  {' '.join(trial.point)}" for i, trial in enumerate(self.trials, 1)]
        return "\n".join(lines)


def merge_overrides(params: dict[str, str], cli: list[Override], parser) -> list[Override]:
    """The named sweep's axes, with any key the command line names replaced by the CLI's value."""
    for key in params:
        if key.lstrip("+~").split(".")[0] not in TRIAL_GROUPS:
            raise ConfigError(
                f"sweep.params.{key} is not allowed: a sweep's settings are those of "
                f"{', '.join(TRIAL_GROUPS)}"
            )
    named = parse(parser, [f"{key}={value}" for key, value in params.items()])
    merged = {key_of(o): o for o in named}
    for override in cli:
        merged[key_of(override)] = override
    return list(merged.values())


def check_axes(overrides: list[Override]) -> tuple[dict, dict]:
    axes, fixed = {}, {}
    for override in overrides:
        key = key_of(override)
        if not override.is_sweep_override():
            fixed[key] = override.get_value_element_as_str()
            continue
        if not override.is_discrete_sweep():
            raise ConfigError(
                f"{override.input_line}: only lists, range(), choice(), glob() and logspace() "
                "can be swept on a grid"
            )
        try:
            values = list(override.sweep_string_iterator())
            parsed = list(override.sweep_iterator())
        except HydraException as error:
            raise ConfigError(describe_hydra_error(error)) from None
        except ValueError as error:
            # Python's own complaint, e.g. range(1,10,0): "range() arg 3 must not be zero".
            raise ConfigError(f"{override.input_line} is not a grid axis: {error}") from None
        if not values:
            raise ConfigError(f"{override.input_line}: the grid axis {key} has no values")
        seen = set()
        for value, text in zip(parsed, values, strict=True):
            marker = float(value) if isinstance(value, (int, float)) else text
            if marker in seen:
                raise ConfigError(
                    f"{key} lists the value {text} twice; grid values must be distinct"
                )
            seen.add(marker)
        axes[key] = values
    return axes, fixed


def expand(params: dict[str, str], cli: list[str], config_loader) -> Grid:
    """Every point of the grid as a checked trial config, composed the way Hydra would."""
    parser = make_parser(config_loader)
    cli_overrides = parse(parser, cli)
    overrides = merge_overrides(params, cli_overrides, parser)
    axes, fixed = check_axes(overrides)
    points = BasicSweeper.split_arguments(overrides, max_batch_size=None)[0]
    composer = PointComposer(parser, config_loader)
    checker = TrialChecker()
    trials = {}
    for point in points:
        composed, applied = composer.compose(point)
        config = trial_config(composed)
        checker.check(config)
        # Points that differ only in a key their optimizer lacks are one and the same trial.
        identity = trial_id(config)
        trials.setdefault(identity, Trial(identity, config, applied))
    # A named sweep's key for another option (task.activation after task=quadratic) just lapses.
    composer.check_all_applied({key_of(o) for o in cli_overrides})
    lapsed = composer.missing - composer.applied
    axes = {key: values for key, values in axes.items() if key not in lapsed}
    fixed = {key: value for key, value in fixed.items() if key not in lapsed}
    return Grid(list(trials.values()), axes, fixed)


class PointComposer:
    """Compose once per choice of config-group options, then apply value overrides to a copy.

    Equal to Hydra's `compose` on the whole point (a test checks it), at a fraction of the cost:
    each distinct override string is parsed once, and each distinct value is applied through
    OmegaConf once (its type checked and converted there); a point then is a copy of its plain
    base with its values set. A key that the point's group options lack (`optimizer.momentum`
    for `optimizer=adam`) is left out of that point; a key that no point has is an error, as it
    is for Hydra.
    """

    def __init__(self, parser: OverridesParser, config_loader):
        self.parser = parser
        self.repository = config_loader.repository
        self.bases: dict[tuple, tuple[DictConfig, dict, bool]] = {}
        self.parsed: dict[str, Override] = {}
        self.groups: dict[tuple[str, bool], bool] = {}
        self.present: dict[tuple, bool] = {}
        self.values: dict[tuple, object] = {}
        self.applied: set[str] = set()
        self.missing: set[str] = set()

    def compose(self, point: list[str]) -> tuple[dict, list[str]]:
        """The point's config as plain containers, and the overrides that applied to it."""
        parsed = [self._parse(line) for line in point]
        groups = tuple(o.input_line for o in parsed if self._is_group(o))
        base, plain, interpolated = self._base(groups)
        values = [o for o in parsed if not self._is_group(o) and self._applies(groups, base, o)]
        if interpolated or not independent(values):
            config = copy.deepcopy(base)
            apply_overrides(values, config)
            config = to_plain(config)
        else:
            config = plain_copy(plain)
            for override in values:
                set_key(config, override.key_or_group, self._value(groups, base, override))
        return config, [o.input_line for o in parsed if self._is_group(o) or o in values]

    def check_all_applied(self, keys: set[str]) -> None:
        """Each of `keys` must have applied to some point, as Hydra would insist."""
        for key in self.missing & keys:
            if key not in self.applied:
                raise ConfigError(f"{key} is not a config key (a new key is added with +{key}=...)")

    def _parse(self, line: str) -> Override:
        if line not in self.parsed:
            [self.parsed[line]] = parse(self.parser, [line])
        return self.parsed[line]

    def _base(self, groups: tuple) -> tuple[DictConfig, dict, bool]:
        """The config of a choice of group options; plain; whether it holds an interpolation."""
        if groups not in self.bases:
            base = compose_config("train", list(groups))
            self.bases[groups] = (base, to_plain(base), "${" in OmegaConf.to_yaml(base))
        return self.bases[groups]

    def _applies(self, groups: tuple, base: DictConfig, override: Override) -> bool:
        """Whether the base has the override's key (adding or deleting always applies)."""
        if override.is_add() or override.is_force_add() or override.is_delete():
            return True
        key = override.key_or_group
        if (groups, key) not in self.present:
            found = OmegaConf.select(base, key, default=_ABSENT) is not _ABSENT
            self.present[(groups, key)] = found
            (self.applied if found else self.missing).add(key)
        return self.present[(groups, key)]

    def _value(self, groups: tuple, base: DictConfig, override: Override):
        """The plain value the override leaves at its key, found once by applying it alone."""
        if (groups, override.input_line) not in self.values:
            config = copy.deepcopy(base)
            apply_overrides([override], config)
            value = OmegaConf.select(config, override.key_or_group)
            if isinstance(value, Container):  # a dict or a list
                value = OmegaConf.to_container(value, resolve=True)
            self.values[(groups, override.input_line)] = value
        return self.values[(groups, override.input_line)]

    def _is_group(self, override: Override) -> bool:
        key = (override.key_or_group, override.package is not None)
        if key not in self.groups:
            self.groups[key] = key[1] or self.repository.group_exists(key[0])
        return self.groups[key]


def independent(overrides: list[Override]) -> bool:
    """Whether each override only sets a value no other one touches: none adds or deletes, none
    refers to another value (`${...}`), no key lies inside another's."""
    keys = [o.key_or_group for o in overrides]
    return not any(
        o.is_add() or o.is_force_add() or o.is_delete() or "${" in repr(o.value())
        for o in overrides
    ) and not any(
        a == b or b.startswith(a + ".")
        for i, a in enumerate(keys)
        for j, b in enumerate(keys)
        if i != j
    )


def apply_overrides(overrides: list[Override], config: DictConfig) -> None:
    try:
        ConfigLoaderImpl._apply_overrides_to_config(overrides, config)
    except (HydraException, OmegaConfBaseException) as error:
        raise ConfigError(describe_hydra_error(error)) from None


def plain_copy(node):
    """A copy of plain nested dicts and lists; a tenth of `copy.deepcopy`'s time."""
    if isinstance(node, dict):
        return {key: plain_copy(value) for key, value in node.items()}
    if isinstance(node, list):
        return [plain_copy(value) for value in node]
    return node


def set_key(config: dict, dotted: str, value) -> None:
    *parents, last = dotted.split(".")
    for key in parents:
        config = config[int(key)] if isinstance(config, list) else config[key]
    config[int(last) if isinstance(config, list) else last] = plain_copy(value)
