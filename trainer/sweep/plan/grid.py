"""A sweep's grid: Hydra's override grammar expanded into checked trial configs, point by point."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.core.override_parser.types import Override
from hydra.errors import HydraException

from trainer.config.compose import (
    TRIAL_GROUPS,
    TrialChecker,
    describe_hydra_error,
    sweep_id,
    trial_config,
    trial_id,
)
from trainer.config.errors import ConfigError
from trainer.sweep.plan.composer import PointComposer
from trainer.sweep.plan.overrides import key_of, make_parser, parse

if TYPE_CHECKING:
    from trainer.training.checkpoint import Checkpoint


class ContinuousRange(ConfigError):
    """An interval() on a grid, which can only enumerate lists, range(), choice(), glob() and
    logspace(); the command line's check names the searches that sample it."""

    def __init__(self, line: str):
        super().__init__(
            f"{line}: only lists, range(), choice(), glob() and logspace() can be swept on a grid"
        )
        self.line = line


@dataclass
class Trial:
    """One trial: its id (the hash of its config), its config, the overrides that made it; and,
    for a search that trains it on from an earlier rung, where to resume and whether to keep
    the state it stops in."""

    trial_id: str
    config: dict
    point: list[str]
    resume: Checkpoint | None = None
    keep: bool = False


@dataclass
class Grid:
    """A sweep's trials (or points), the axes they span and the values all share; for a
    search over a space (plan/space.py), the composer its later trials are drawn with."""

    trials: list[Trial]
    axes: dict[str, list[str]] = field(default_factory=dict)
    fixed: dict[str, str] = field(default_factory=dict)
    # A plan.space.SpaceComposer (typed loosely: space.py builds on this module).
    space: Any = None

    @property
    def sweep_id(self) -> str:
        return sweep_id((t.trial_id for t in self.trials), self.fixed)

    def describe(self) -> str:
        """The grid as `sweep.dry_run=true` prints it: its shape, then one line per trial."""
        axes = " x ".join(f"{key} ({len(values)})" for key, values in self.axes.items()) or "none"
        fixed = ", ".join(f"{key}={value}" for key, value in self.fixed.items()) or "none"
        what = {
            "boundary": "points, lr searched",
            "tpe": f"points checked (TPE proposes {self.fixed.get('sweep.n_trials')} trials)",
        }.get(self.fixed.get("sweep.search", ""), "trials")
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
            raise ContinuousRange(override.input_line)
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


def expand_without(
    key: str, placeholder: str, sweep_cfg: dict, trial_args: list[str], config_loader, why: str
) -> Grid:
    """Every point of the other axes, for a search that sets `key` itself: `key` on the command
    line is refused (`why` says how to set it instead), a named sweep's axis of it gives way,
    and the trials are checked with `key` at `placeholder`, which their points leave out."""
    for override in parse(make_parser(config_loader), trial_args):
        if key_of(override) == key:
            raise ConfigError(f"{override.input_line}: {why}")
    params = {k: value for k, value in sweep_cfg["params"].items() if k != key}
    grid = expand(params, [*trial_args, f"{key}={placeholder}"], config_loader)
    for trial in grid.trials:
        trial.point = [p for p in trial.point if not p.startswith(f"{key}=")]
    grid.fixed.pop(key, None)
    return grid
