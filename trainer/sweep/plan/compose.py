"""A sweep's command line: session keys (sweep, ray, tracking) set apart and checked, the rest
expanded by the chosen search into its trials (or the boundary search's points), its ranking
checked."""

from trainer.config.compose import TRIAL_GROUPS, compose_config, to_plain
from trainer.config.errors import ConfigError
from trainer.config.preflight import check_session_values
from trainer.sweep.plan.grid import ContinuousRange, Grid
from trainer.sweep.plan.overrides import is_session_key, key_of, make_parser, parse
from trainer.sweep.plan.ranking import choose_ranking
from trainer.sweep.plan.searches.registry import SEARCHES, sampling_searches, search_named


def compose_sweep(args: list[str], config_loader) -> tuple[dict, Grid]:
    """A sweep's command line as (session config, grid): session keys (sweep, ray, tracking)
    compose `conf/sweep.yaml`, every other override is a trial setting or a grid axis."""
    session_args, trial_args = [], []
    for override in parse(make_parser(config_loader), args):
        key = key_of(override)
        if is_session_key(key) and override.is_sweep_override():
            raise ConfigError(
                f"{override.input_line}: {key} cannot be a grid axis; "
                f"only {', '.join(TRIAL_GROUPS[:-1])} and {TRIAL_GROUPS[-1]} settings can be swept"
            )
        (session_args if is_session_key(key) else trial_args).append(override.input_line)
    session = to_plain(compose_config("sweep", session_args))
    check_session_values(session)
    search = search_named(session["sweep"]["search"])
    seeds = session["sweep"]["seeds"]
    if seeds is not None:
        if not search.takes_seeds:
            takers = ", ".join(name for name, s in SEARCHES.items() if s.takes_seeds)
            raise ConfigError(
                f"sweep.seeds={seeds} is not allowed with sweep.search={search.name}: it "
                f"chooses configurations one seed at a time; seeds go with {takers}"
            )
        trial_args = [*trial_args, f"trainer.seed=range(0,{seeds})"]
    try:
        grid = search.expand(session["sweep"], trial_args, config_loader)
    except ContinuousRange as error:
        samplers = ", ".join(f"sweep.search={name}" for name in sampling_searches())
        raise ConfigError(
            f"{error.line}: a continuous range is searched by sampling it, not with "
            f"sweep.search={search.name}; use {samplers}"
        ) from None
    choose_ranking(session["sweep"], grid)  # a bad sweep.metric or sweep.mode is refused now
    return session, grid
