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
  python scripts/sweep.py sweep=boundary           (search each point's lr where it diverges)
  python scripts/sweep.py sweep.metric=final_val_accuracy  (what ranks the best trials)
search: sweep.search=grid|boundary sweep.boundary.low=.. .high=.. .rtol=0.02 .max_decades=3
session: ray.address=auto|host:port ray.num_cpus=N tracking.uri=... tracking.experiment=..."""


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
    opening = open_in_background(
        uri, session["tracking"]["experiment"], grid, session["sweep"]["name"]
    )
    from trainer.sweep.boundary_run import search_boundary  # Ray is imported only now
    from trainer.sweep.driver import run_sweep, sweep

    body = search_boundary if session["sweep"]["search"] == "boundary" else sweep
    return run_sweep(grid, session, uri, opening, started, body)


if __name__ == "__main__":
    cli.run(main, USAGE)
