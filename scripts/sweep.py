"""Sweep learning rate x momentum (or any config axes) in parallel Ray workers, logged to MLflow."""

import time

from trainer import cli
from trainer.config import hydra_context
from trainer.preflight import check_session
from trainer.sweep.grid import compose_sweep
from trainer.sweep.ray_setup import keep_local_ray_on_loopback
from trainer.sweep.store_process import open_in_background

USAGE = """usage: python scripts/sweep.py [OVERRIDE ...]

Overrides use Hydra's grammar; a value that is a sweep (a,b,c  range(..)  choice(..)  glob(..)
logspace(start,stop,num)) is an axis of the grid, any other value is fixed for every trial.
  python scripts/sweep.py task=quadratic optimizer.lr=0.01,0.02,0.05 optimizer.momentum=0,0.9
  python scripts/sweep.py optimizer=sgd,momentum,nesterov,adagrad,rmsprop,adam
  python scripts/sweep.py sweep=quadratic          (named sweeps: conf/sweep/*.yaml)
  python scripts/sweep.py sweep.dry_run=true       (print the grid, start nothing)
session: ray.address=auto|host:port ray.num_cpus=N tracking.uri=... tracking.experiment=...
         tracking=none (run the sweep and print its table, record nothing)"""


def main(args: list[str]) -> int:
    with hydra_context() as config_loader:
        session, grid = compose_sweep(args, config_loader)
    if session["sweep"]["dry_run"]:
        print(grid.describe())
        return 0
    uri = check_session(session)
    keep_local_ray_on_loopback(session["ray"]["address"])
    started = time.perf_counter()
    # The store opens in a child process from here on, while this one imports Ray and starts it.
    opening = None
    if uri is not None:  # tracking=none: no store, and no process for it
        opening = open_in_background(
            uri, session["tracking"]["experiment"], grid, session["sweep"]["name"]
        )
    from trainer.sweep.driver import run_sweep  # Ray is imported only now, once set up

    return run_sweep(grid, session, uri, opening, started)


if __name__ == "__main__":
    cli.run(main, USAGE)
