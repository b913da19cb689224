"""Search spaces in Hydra's grammar, as its Optuna sweeper reads them, and trials drawn from them.

    optimizer.lr='tag(log, interval(1e-4, 1))'   log-uniform on [1e-4, 1]
    optimizer.momentum='interval(0, 0.99)'       uniform on [0, 0.99]
    trainer.batch_size='tag(int, interval(16, 256))'   uniform integers
    trainer.batch_size=range(16,257,16), optimizer=choice(sgd,momentum,adam), a=1,2,3
                                                 categorical: one of the values listed

A point of the space is a row of quantiles u in [0, 1), one per dimension; each dimension turns
its quantile into the value a trial gets, written as override text, so every sampled trial is
composed and checked like a grid point (and named, hashed and resumed like one).
"""

import math
from dataclasses import dataclass, field

import numpy as np
from hydra.core.override_parser.types import IntervalSweep, Override
from hydra.errors import HydraException

from trainer.config.compose import TrialChecker, describe_hydra_error, trial_config, trial_id
from trainer.config.errors import ConfigError
from trainer.sweep.plan.composer import PointComposer
from trainer.sweep.plan.grid import Grid, Trial, merge_overrides
from trainer.sweep.plan.overrides import key_of, make_parser, parse

# Sampled values carry 6 significant digits: readable params and run names, identical on rerun.
SIGNIFICANT_DIGITS = 6
SEED = "trainer.seed"


@dataclass(frozen=True)
class Dimension:
    """One searched key: a range (`low`, `high`, on a log scale or not, integers or not), or
    the `choices` listed, as override text."""

    key: str
    low: float = 0.0
    high: float = 1.0
    log: bool = False
    integer: bool = False
    choices: tuple[str, ...] = ()

    @property
    def continuous(self) -> bool:
        return not self.choices

    def at(self, u: float) -> str:
        """The value at quantile `u` of [0, 1), as override text."""
        if self.choices:
            return self.choices[min(int(u * len(self.choices)), len(self.choices) - 1)]
        if self.log:
            value = math.exp(math.log(self.low) + u * (math.log(self.high) - math.log(self.low)))
        else:
            value = self.low + u * (self.high - self.low)
        return self.text(value)

    def text(self, value) -> str:
        """A value of the dimension as override text: a choice as listed, an integer, or a
        number of 6 significant digits kept within the range."""
        if self.choices:
            return str(value)
        if self.integer:
            return str(min(max(int(math.floor(value)), math.ceil(self.low)), int(self.high)))
        return repr(min(max(float(f"{value:.{SIGNIFICANT_DIGITS}g}"), self.low), self.high))

    def describe(self) -> str:
        """The dimension as the command line wrote it (normalised)."""
        if self.choices:
            return f"choice({','.join(self.choices)})"
        tags = [tag for tag, on in (("log", self.log), ("int", self.integer)) if on]
        interval = f"interval({self.low!r}, {self.high!r})"
        return f"tag({', '.join(tags)}, {interval})" if tags else interval


@dataclass
class Space:
    """The searched dimensions, the override lines every trial shares, and the seeds each
    point runs with (a `trainer.seed` sweep: seeds are not searched, every point takes all)."""

    dimensions: list[Dimension]
    fixed: list[str]
    seeds: list[str] = field(default_factory=list)

    @property
    def keys(self) -> list[str]:
        return [d.key for d in self.dimensions]

    def lines(self, point) -> list[str]:
        """The override lines of one point (its quantiles, one per dimension)."""
        values = zip(self.dimensions, point, strict=True)
        return [*self.fixed, *(f"{d.key}={d.at(u)}" for d, u in values)]

    def lines_of(self, values: dict) -> list[str]:
        """The override lines of one point given as a value per key."""
        return [*self.fixed, *(f"{d.key}={d.text(values[d.key])}" for d in self.dimensions)]

    def describe(self) -> dict[str, str]:
        return {d.key: d.describe() for d in self.dimensions}


def dimension(override: Override) -> Dimension:
    """A sweep override as a dimension; ConfigError in one line for a range it cannot be."""
    key, value = key_of(override), override.value()
    if isinstance(value, IntervalSweep):
        low, high = float(value.start), float(value.end)
        unknown = sorted(set(value.tags) - {"log", "int"})
        if unknown:
            line = override.input_line
            raise ConfigError(f"{line}: tag {unknown[0]} is not allowed: use log or int")
        if not low < high:
            raise ConfigError(f"{override.input_line}: interval(low, high) needs low < high")
        log = "log" in value.tags
        if log and low <= 0:
            raise ConfigError(f"{override.input_line}: a log interval needs low > 0")
        return Dimension(key, low, high, log=log, integer="int" in value.tags)
    try:
        choices = tuple(override.sweep_string_iterator())
    except HydraException as error:
        raise ConfigError(describe_hydra_error(error)) from None
    if not choices:
        raise ConfigError(f"{override.input_line}: {key} has no values to choose from")
    return Dimension(key, choices=choices)


def parse_space(params: dict[str, str], cli: list[str], config_loader) -> Space:
    """A sweep's space: the named sweep's params with the command line's on top."""
    parser = make_parser(config_loader)
    overrides = merge_overrides(params, parse(parser, cli), parser)
    seeds = [o for o in overrides if o.is_sweep_override() and key_of(o) == SEED]
    dimensions = [dimension(o) for o in overrides if o.is_sweep_override() and o not in seeds]
    fixed = [o.input_line for o in overrides if not o.is_sweep_override()]
    if not dimensions:
        raise ConfigError(
            "nothing to search: give at least one range, e.g. "
            "optimizer.lr='tag(log, interval(1e-4, 1))'"
        )
    return Space(dimensions, fixed, [s for o in seeds for s in dimension(o).choices])


class SpaceComposer:
    """Points of a space composed into checked trials, as a grid's points are."""

    def __init__(self, space: Space, config_loader):
        self.space = space
        self.composer = PointComposer(make_parser(config_loader), config_loader)
        self.checker = TrialChecker()

    def trial(self, point) -> Trial:
        return self.compose(self.space.lines(point))

    def compose(self, lines: list[str]) -> Trial:
        """One point's override lines as a checked trial."""
        composed, applied = self.composer.compose(lines)
        config = trial_config(composed)
        self.checker.check(config)
        return Trial(trial_id(config), config, applied)

    def grid(self, points: np.ndarray, fixed: dict[str, str]) -> Grid:
        """The distinct trials of `points` (rows of quantiles), in order; each key of the space
        must apply to some of them, as Hydra would insist. The grid keeps this composer: a
        search that adapts composes its later points with it, after Hydra's context is gone."""
        trials: dict[str, Trial] = {}
        for point in points:
            lines = self.space.lines(point)
            for seed in self.space.seeds or [None]:
                trial = self.compose(lines if seed is None else [*lines, f"{SEED}={seed}"])
                trials.setdefault(trial.trial_id, trial)
        self.composer.check_all_applied(set(self.space.keys))
        keys = [*self.space.keys, *([SEED] if self.space.seeds else [])]
        axes = {key: values_of(key, trials.values()) for key in keys}
        described = {f"space.{key}": text for key, text in self.space.describe().items()}
        return Grid(list(trials.values()), axes, {**fixed, **described}, self)


def values_of(key: str, trials) -> list[str]:
    """The distinct values `key` took among `trials`, as override text."""
    prefix = f"{key}="
    found = {line[len(prefix) :] for t in trials for line in t.point if line.startswith(prefix)}
    return sorted(found)
