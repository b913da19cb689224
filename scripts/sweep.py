"""Sweep learning rate x momentum (or any config axes) in parallel Ray workers, logged to MLflow."""

import functools

from trainer.config import cli
from trainer.config.compose import hydra_context
from trainer.config.help import config_yaml, take_cfg_flag, usage
from trainer.sweep.api import store_started_early, sweep_session
from trainer.sweep.plan.compose import compose_sweep

USAGE = functools.partial(usage, "sweep")


def main(args: list[str]) -> int:
    args, show_config = take_cfg_flag(args)
    with store_started_early() as early:  # MLflow imported in a child while Hydra composes
        with hydra_context() as config_loader:
            session, grid = compose_sweep(args, config_loader)
        if show_config:
            # Hydra's --cfg for a sweep: the grid's shape, then the first trial as it will run.
            shape = grid.describe().splitlines()[0]
            print(
                f"# {shape}\n# trial 1 of {len(grid.trials)}:\n{config_yaml(grid.trials[0].config)}"
            )
            return 0
        return sweep_session(session, grid, early).code


if __name__ == "__main__":
    cli.run(main, USAGE)
