"""A sweep's trials for either search: the grid as written, or the points whose lr is searched."""

from trainer.config.compose import trial_id
from trainer.config.errors import ConfigError
from trainer.sweep.plan.boundary import Settings, rounded
from trainer.sweep.plan.grid import Grid, Trial, expand, key_of, make_parser, parse

LR = "optimizer.lr"
SEARCHES = ("grid", "boundary")


def expand_search(sweep_cfg: dict, trial_args: list[str], config_loader) -> Grid:
    """`sweep.search=grid`: every point of the grid. `boundary`: every point of the other axes
    (lr at sweep.boundary.low, to check the configs), whose lr the search will choose."""
    search = sweep_cfg["search"]
    if search not in SEARCHES:
        raise ConfigError(
            f"sweep.search={search} is not allowed: choose one of {', '.join(SEARCHES)}"
        )
    if search == "grid":
        return expand(sweep_cfg["params"], trial_args, config_loader)
    settings = Settings.from_config(sweep_cfg["boundary"])
    for override in parse(make_parser(config_loader), trial_args):
        if key_of(override) == LR:
            raise ConfigError(
                f"{override.input_line}: sweep.search=boundary searches {LR} itself; "
                "set its bracket with sweep.boundary.low and sweep.boundary.high"
            )
    # A named sweep's lr axis gives way to the search.
    params = {key: value for key, value in sweep_cfg["params"].items() if key != LR}
    grid = expand(params, [*trial_args, f"{LR}={settings.low}"], config_loader)
    points = [
        Trial(t.trial_id, t.config, [p for p in t.point if not p.startswith(f"{LR}=")])
        for t in grid.trials
    ]
    fixed = {key: value for key, value in grid.fixed.items() if key != LR}
    # The search's settings are part of the sweep's identity (its parent run), the round cap not:
    # a capped run and the full one are the same search.
    fixed["sweep.search"] = "boundary"
    for key in ("low", "high", "rtol", "max_decades", "probes"):
        fixed[f"sweep.boundary.{key}"] = str(getattr(settings, key))
    return Grid(points, grid.axes, fixed)


def probe_trial(point: Trial, lr: float) -> Trial:
    """The point's trial at learning rate `lr`: an ordinary trial, its id the hash of its config."""
    config = {**point.config, "optimizer": {**point.config["optimizer"], "lr": rounded(lr)}}
    return Trial(trial_id(config), config, [*point.point, f"{LR}={rounded(lr)}"])
