"""`sweep.search=random` and `sweep.search=sobol`: `n_trials` points drawn from the space at once.

Random draws each quantile independently (numpy's generator from `sweep.seed`); Sobol takes the
points of a scrambled Sobol sequence (scipy.stats.qmc), which cover the space more evenly, as the
Deep Learning Tuning Playbook recommends for exploration; its balance holds for a power of two.
The same seed proposes the same trials, so a rerun finds them finished and has nothing to do.
"""

import warnings

import numpy as np

from trainer.config.errors import ConfigError
from trainer.sweep.plan.grid import Grid
from trainer.sweep.plan.searches.grid_search import GridSearch
from trainer.sweep.plan.space import SpaceComposer, parse_space
from trainer.sweep.report.searched import Searched, Searching


class RandomSearch(GridSearch):
    """Independent uniform draws of each dimension's quantile."""

    name = "random"
    samples_ranges = True

    @staticmethod
    def points(dimensions: int, n: int, seed: int) -> np.ndarray:
        return np.random.default_rng(seed).random((n, dimensions))

    @classmethod
    def expand(cls, sweep_cfg: dict, trial_args: list[str], config_loader) -> Grid:
        space = parse_space(sweep_cfg["params"], trial_args, config_loader)
        n, seed = sweep_cfg["n_trials"], sweep_cfg["seed"]
        fixed = {"sweep.search": cls.name, "sweep.n_trials": str(n), "sweep.seed": str(seed)}
        points = cls.points(len(space.dimensions), n, seed)
        return SpaceComposer(space, config_loader).grid(points, fixed)

    def announce(self, done: int, todo: int) -> str:
        context = self.context
        return (
            f"sweep {context.name}: {self.name} search, {len(context.grid.trials)} trials "
            f"(seed {context.sweep['seed']}), {done} already done, {todo} to run on "
            f"{context.cpus} CPUs; tracking {context.tracking_label}"
        )

    def searching(self) -> Searching:
        return space_drawn(self.context.grid, self.order)


class SobolSearch(RandomSearch):
    """The first `n_trials` points of a scrambled Sobol sequence."""

    name = "sobol"

    @staticmethod
    def points(dimensions: int, n: int, seed: int) -> np.ndarray:
        from scipy.stats import qmc

        sobol = qmc.Sobol(dimensions, scramble=True, seed=seed)
        with warnings.catch_warnings():
            # Fewer or more than a power of two loses the balance, not the coverage.
            warnings.simplefilter("ignore", UserWarning)
            return sobol.random(n)


def refuse_seeds(space, search: str) -> None:
    """A search that chooses its configurations from results takes one seed per trial."""
    if space.seeds:
        raise ConfigError(
            f"trainer.seed={','.join(space.seeds)} is not allowed with sweep.search={search}: it "
            "chooses configurations one seed at a time; seeds go with grid, random and sobol"
        )


def space_drawn(grid: Grid, order: dict[str, int]) -> Searching:
    """A space's dimensions as the summary's figures draw them: no heatmap (the points are not
    on a grid), the loss curves coloured by the first continuous dimension."""
    dimensions = grid.space.space.dimensions
    keys = [Searched(d.key, log=d.log, categorical=not d.continuous) for d in dimensions]
    shade = next((d.key for d in dimensions if d.continuous), None)
    curve_axes = {shade: grid.axes[shade]} if shade else {}
    return Searching(keys, order, heatmap=False, curve_axes=curve_axes)
