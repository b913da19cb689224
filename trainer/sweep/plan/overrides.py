"""Hydra's override grammar for sweeps: the parser (with `logspace`), and what a key names."""

import numpy as np
from hydra.core.override_parser.overrides_parser import OverridesParser, create_functions
from hydra.core.override_parser.types import ChoiceSweep, Override
from hydra.errors import HydraException

from trainer.config.compose import describe_hydra_error
from trainer.config.errors import ConfigError
from trainer.config.preflight import SESSION_GROUPS


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
