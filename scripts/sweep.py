"""Sweep learning rate x momentum (or any config axes) in parallel Ray workers, logged to MLflow."""

import time

from trainer import cli
from trainer.config import ConfigError, compose_config, hydra_context, to_plain
from trainer.preflight import check_address, check_tracking, keep_local_ray_on_loopback
from trainer.sweep.grid import expand, is_session_key, key_of, make_parser, parse
from trainer.sweep.store_process import open_in_background

USAGE = """usage: python scripts/sweep.py [OVERRIDE ...]

Overrides use Hydra's grammar; a value that is a sweep (a,b,c  range(..)  choice(..)  glob(..)
logspace(start,stop,num)) is an axis of the grid, any other value is fixed for every trial.
  python scripts/sweep.py task=quadratic optimizer.lr=0.01,0.02,0.05 optimizer.momentum=0,0.9
  python scripts/sweep.py optimizer=sgd,momentum,nesterov,adagrad,rmsprop,adam
  python scripts/sweep.py sweep=quadratic          (named sweeps: conf/sweep/*.yaml)
  python scripts/sweep.py sweep.dry_run=true       (print the grid, start nothing)
session: ray.address=auto|host:port ray.num_cpus=N tracking.uri=... tracking.experiment=..."""


def main(args: list[str]) -> int:
    with hydra_context() as config_loader:
        overrides = parse(make_parser(config_loader), args)
        session_args, trial_args = [], []
        for override in overrides:
            key = key_of(override)
            if is_session_key(key) and override.is_sweep_override():
                raise ConfigError(
                    f"{override.input_line}: {key} cannot be a grid axis; "
                    "only optimizer, task and trainer settings can be swept"
                )
            (session_args if is_session_key(key) else trial_args).append(override.input_line)
        session = to_plain(compose_config("sweep", session_args))
        grid = expand(session["sweep"]["params"], trial_args, config_loader)

    if session["sweep"]["dry_run"]:
        print(describe(grid))
        return 0
    if not session["tracking"]["enabled"]:
        raise ConfigError(
            "tracking=none: a sweep records its trials in MLflow; use tracking=mlflow"
        )
    uri = check_tracking(session["tracking"])
    check_address(session["ray"]["address"])
    keep_local_ray_on_loopback(session["ray"]["address"])
    started = time.perf_counter()
    # The store opens in a child process from here on, while this one imports Ray and starts it.
    tracking = session["tracking"]
    opening = open_in_background(
        uri, tracking["experiment"], grid, session["sweep"]["name"], tracking["retry_seconds"]
    )
    from trainer.sweep.driver import run_sweep  # Ray is imported only now, once set up

    return run_sweep(grid, session, uri, opening, started)


def describe(grid) -> str:
    axes = " x ".join(f"{key} ({len(values)})" for key, values in grid.axes.items()) or "none"
    fixed = ", ".join(f"{key}={value}" for key, value in grid.fixed.items()) or "none"
    lines = [f"grid: {len(grid.trials)} trials; axes: {axes}; fixed: {fixed}"]
    lines += [f"{i:4d}  {' '.join(trial.point)}" for i, trial in enumerate(grid.trials, start=1)]
    return "\n".join(lines)


if __name__ == "__main__":
    cli.run(main, USAGE)
