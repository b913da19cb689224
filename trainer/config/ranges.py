"""Allowed ranges of trainer and task settings, declared and checked as the optimizers' are."""

from collections.abc import Mapping

from optimizers.hyperparameters import Interval, check
from trainer.config.errors import ConfigError

AT_LEAST_ZERO = Interval(0.0, low_closed=True)
"""[0, inf): seeds, noise levels, class separations."""

AT_LEAST_ONE = Interval(1.0, low_closed=True)
"""[1, inf): the quadratic's condition number."""


def check_ranges(group: str, values: Mapping, ranges: Mapping[str, Interval]) -> None:
    """Each of `ranges` checked in `values` by the optimizers' own `check`; a value outside
    raises ValueError in its one-line format, the key prefixed with its config group:
    `task.n=0 is not allowed: n must be a real number > 0`."""
    for name, allowed in ranges.items():
        try:
            check(name, values[name], allowed)
        except ValueError as error:
            raise ValueError(f"{group}.{error}") from None


def check_given_ranges(group: str, values: Mapping, ranges: Mapping[str, Interval]) -> None:
    """`check_ranges` for settings where null means "the default": only a value given has a
    range to be in."""
    check_ranges(group, values, {k: r for k, r in ranges.items() if values.get(k) is not None})


def check_bracket(prefix: str, values: Mapping, ranges: Mapping[str, Interval]) -> None:
    """A search's `low` and `high` with the rest of its settings: each in its range, then high
    above low; ConfigError in one line naming the key and what is allowed."""
    try:
        check_ranges(prefix, values, ranges)
    except ValueError as error:
        raise ConfigError(str(error)) from None
    if not values["high"] > values["low"]:
        raise ConfigError(
            f"{prefix}.high={values['high']} is not allowed: it must be > "
            f"{prefix}.low={values['low']}"
        )
