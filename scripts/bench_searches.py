"""bench.py searches: the trials each search needs to reach a loss on Rosenbrock, lr x momentum.

Each search runs in this process (trainer/sweep/run/in_process.py: the sweep loop's protocol,
without Ray or a store), one trial at a time, for each of --seeds sweep seeds. A grid has no
order of its own: its points are taken in an order shuffled by the seed. The cost of reaching
the target is counted in full training runs: trials for every search but halving, whose rungs
cost the steps they train (a rung of 1/9 of the budget, a ninth of a run).
"""

from __future__ import annotations

import math
import statistics
import time

import numpy as np

SPACE = [
    "task=rosenbrock",
    "optimizer=momentum",
    "optimizer.lr=tag(log, interval(1e-5, 1e-2))",
    "optimizer.momentum=interval(0, 0.99)",
    "tracking=none",
]
GRID_SIDE = 8  # the grid: 8 log-spaced learning rates x 8 momenta over the same ranges
SEARCHES = ("grid", "random", "sobol", "tpe", "halving")


def add_searches_args(parser) -> None:
    parser.add_argument("--target", type=float, default=1e-4, help="final train loss to reach")
    parser.add_argument("--trials", type=int, default=64, help="budget of each search")
    parser.add_argument("--steps", type=int, default=1000, help="steps of a full training run")
    parser.add_argument("--seeds", type=int, default=5, help="sweep seeds, for medians")


def command_line(search: str, args, seed: int) -> list[str]:
    common = [f"trainer.steps={args.steps}", f"sweep.seed={seed}", "sweep.name=bench"]
    if search == "grid":
        lrs = ",".join(f"{v:.3g}" for v in np.geomspace(1e-5, 1e-2, GRID_SIDE))
        momenta = ",".join(f"{v:.3g}" for v in np.linspace(0, 0.99, GRID_SIDE))
        axes = [f"optimizer.lr={lrs}", f"optimizer.momentum={momenta}"]
        return [*SPACE[:2], *axes, *SPACE[4:], *common]
    extra = ["sweep.halving.eta=3"] if search == "halving" else []
    return [*SPACE, f"sweep.search={search}", f"sweep.n_trials={args.trials}", *extra, *common]


def cost_to_target(search: str, args, seed: int) -> float:
    """Full training runs spent until a trial first reaches the target (inf if none does)."""
    from trainer.config.compose import hydra_context
    from trainer.sweep.context import SweepContext
    from trainer.sweep.plan.compose import compose_sweep
    from trainer.sweep.plan.searches.registry import search_named
    from trainer.sweep.record.no_store import NoStore
    from trainer.sweep.run.in_process import drive_in_process

    with hydra_context() as loader:
        session, grid = compose_sweep(command_line(search, args, seed), loader)
    if search == "grid":
        order = np.random.default_rng(seed).permutation(len(grid.trials))
        grid.trials = [grid.trials[i] for i in order]
    context = SweepContext(session, grid, None, time.perf_counter(), cpus=1)
    context.store = NoStore()
    spent, reached = [0], []

    steps_before: dict[str, int] = {}

    def counted(result) -> None:
        # A rung resumed trains only its new steps; its curve holds every step so far.
        key = str(sorted(result.config["optimizer"].items()))
        new_steps = result.train_loss.size - steps_before.get(key, 0)
        steps_before[key] = result.train_loss.size
        spent[0] += new_steps
        loss = result.final.get("final_train_loss", math.inf)
        if not reached and result.outcome == "converged" and loss <= args.target:
            reached.append(spent[0])

    drive_in_process(search_named(session["sweep"]["search"])(context), counted)
    return reached[0] / args.steps if reached else math.inf


def bench_searches(args) -> None:
    """Trials to reach a loss on Rosenbrock: grid, random, Sobol, TPE and halving."""
    print(
        f"Rosenbrock, momentum, lr in [1e-5, 1e-2] (log) x momentum in [0, 0.99]; target "
        f"final_train_loss <= {args.target:g} within {args.steps} steps; budget {args.trials} "
        f"trials (grid {GRID_SIDE}x{GRID_SIDE}); median over {args.seeds} sweep seeds"
    )
    row = "{:<8}{:>22}{:>10}  {}"
    print(row.format("search", "full runs to target", "reached", "per seed"))
    for search in SEARCHES:
        started = time.perf_counter()
        costs = [cost_to_target(search, args, seed) for seed in range(args.seeds)]
        finite = [c for c in costs if math.isfinite(c)]
        median = statistics.median(costs) if len(finite) * 2 > len(costs) else math.inf
        shown = " ".join("-" if not math.isfinite(c) else f"{c:.3g}" for c in costs)
        elapsed = time.perf_counter() - started
        cell = f"{median:.3g}" if math.isfinite(median) else f">{args.trials}"
        reached = f"{len(finite)}/{len(costs)}"
        print(row.format(search, cell, reached, f"{shown}  ({elapsed:.0f} s)"))
