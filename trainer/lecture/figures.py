"""The lecture's optimizer pictures: SGD's zigzag, learning rates, momentum, adaptive rules."""

import numpy as np
from matplotlib.figure import Figure

from trainer.lecture.runs import (
    ADAPTIVE_RULES,
    LEARNING_RATES,
    MOMENTUM_RULES,
    TARGET,
    TARGET_LOSS,
    LectureRuns,
    compared_rates,
    reached,
)
from trainer.lecture.step_sizes import per_parameter_rates
from trainer.lecture.surface import COLOURS, draw_paths
from trainer.plots import log_scale, to_png
from trainer.training.build import build_task

LR_COLOURS = {"too small": "#7f7f7f", "right": "#2ca02c", "too large": "#ff7f0e"}
LR_COLOURS["far too large"] = "#d62728"
LR_SAYS = {
    "too small": "slow",
    "right": "smooth",
    "too large": "overshoots, never settles",
    "far too large": "diverges",
}
LOWEST_LOSS = 1e-16  # below this a float64 loss is rounding noise


def _task(runs: LectureRuns, key: str):
    config = runs.configs[key]
    return build_task(config["task"], seed=config["trainer"]["seed"])


def zigzag_png(runs: LectureRuns) -> bytes:
    """SGD on the steep/shallow bowl: the path, and each coordinate against the step."""
    result = runs.results["zigzag"]
    lr = result.config["optimizer"]["lr"]
    figure = Figure(figsize=(11, 4.4))
    grid = figure.add_gridspec(2, 2, width_ratios=[3, 2])
    path_axes = figure.add_subplot(grid[:, 0])
    draw_paths(path_axes, _task(runs, "zigzag"), {f"sgd lr={lr:.3g}": result.trajectory})
    path_axes.legend(fontsize=8, loc="lower right")
    steep_axes = figure.add_subplot(grid[0, 1])
    shallow_axes = figure.add_subplot(grid[1, 1], sharex=steep_axes)
    for axes, column, text in ((steep_axes, 1, "y: steep"), (shallow_axes, 0, "x: shallow")):
        axes.plot(result.trajectory[:60, column], ".-", color="#d62728", lw=1, ms=3)
        axes.axhline(0, color="black", lw=0.5)
        axes.set_ylabel(text)
    steep_axes.set_title("each coordinate against the step (minimum at 0)", fontsize=9)
    shallow_axes.set_xlabel("step")
    figure.suptitle(
        f"SGD, lr = {lr / runs.limit:.2g} x 2/lambda_max: jitter along the steep axis y "
        "(sign flips every step), slow progress along the shallow axis x",
        fontsize=10,
    )
    return to_png(figure, tight=True)


def learning_rates_png(runs: LectureRuns) -> bytes:
    """Four SGD rates, chosen from the stability limit, on one log-scale loss plot."""
    figure = Figure(figsize=(8, 4.8))
    axes = figure.add_subplot()
    for label in LEARNING_RATES:
        result = runs.results[f"lr/{label}"]
        lr = result.config["optimizer"]["lr"]
        text = f"{label} ({LR_SAYS[label]}): lr = {lr / runs.limit:g} x 2/lambda_max = {lr:.3g}"
        axes.plot(result.train_loss, color=LR_COLOURS[label], lw=1.5, label=text)
        if result.divergence is not None:
            step = result.divergence.step
            axes.plot(step, result.train_loss[-1], "X", color=LR_COLOURS[label], ms=10)
            axes.annotate(
                f"diverged at step {step}\n({result.divergence.reason})",
                (step, result.train_loss[-1]),
                xytext=(12, -4),
                textcoords="offset points",
                fontsize=8,
                color=LR_COLOURS[label],
                va="top",
            )
    log_scale(axes)
    axes.set(
        xlabel="step",
        ylabel="loss",
        title=f"Learning rate on the bowl (SGD; stability limit 2/lambda_max = {runs.limit:.3g})",
    )
    axes.legend(fontsize=8, loc="lower left")
    return to_png(figure, tight=True)


def momentum_png(runs: LectureRuns) -> bytes:
    """SGD, momentum and Nesterov from the same start at the same rate: paths and losses."""
    alpha = runs.results["bowl/momentum"].config["optimizer"]["momentum"]
    return _paths_and_losses(
        runs,
        MOMENTUM_RULES,
        f"Momentum and Nesterov (alpha = {alpha:g}) against SGD, same start, {compared_rates(runs)}"
        ": the velocity carries the path past the minimum along x, then damps",
    )


def _paths_and_losses(runs: LectureRuns, rules, title: str) -> bytes:
    figure = Figure(figsize=(14, 4.4))
    path_axes, x_axes, loss_axes = figure.subplots(1, 3, width_ratios=[3, 2, 2])
    results = {rule: runs.results[f"bowl/{rule}"] for rule in rules}
    draw_paths(path_axes, _task(runs, f"bowl/{rules[0]}"), _paths(results))
    path_axes.legend(fontsize=8, loc="lower right")
    for rule, result in results.items():
        x_axes.plot(result.trajectory[:, 0], color=COLOURS[rule], label=rule)
    x_axes.axhline(0, color="black", lw=0.5)
    x_axes.set(xlabel="step", ylabel="x, the shallow coordinate (minimum at 0)", xlim=(0, 200))
    x_axes.legend(fontsize=8)
    for rule, result in results.items():
        note = f"{TARGET} {reached(result)}"
        loss_axes.plot(result.train_loss, color=COLOURS[rule], label=f"{rule}: {note}")
    log_scale(loss_axes)
    loss_axes.axhline(TARGET_LOSS, color="black", lw=0.5, ls=":")
    loss_axes.set(xlabel="step", ylabel="loss", ylim=(LOWEST_LOSS, None))
    loss_axes.legend(fontsize=8)
    figure.suptitle(title, fontsize=10)
    return to_png(figure, tight=True)


def _paths(results: dict, with_target: bool = False) -> dict[str, np.ndarray]:
    """Legend label -> path; `with_target` adds when the loss fell below 1e-6."""
    paths = {}
    for rule, result in results.items():
        label = f"{rule} lr={result.config['optimizer']['lr']:.3g}"
        if with_target:
            label += f": {TARGET} {reached(result)}"
        paths[label] = result.trajectory
    return paths


def adaptive_paths_png(runs: LectureRuns) -> bytes:
    """AdaGrad, RMSProp and Adam on the bowl and on Rosenbrock's valley."""
    figure = Figure(figsize=(11, 4.6))
    places = {"bowl": "lower right", "valley": "upper right"}
    for axes, surface in zip(figure.subplots(1, 2), places, strict=True):
        results = {rule: runs.results[f"{surface}/{rule}"] for rule in ADAPTIVE_RULES}
        paths = _paths(results, with_target=True)
        draw_paths(axes, _task(runs, f"{surface}/adam"), paths, markers=False)
        task_name = results["adam"].config["task"]["name"]
        axes.set_title(f"{task_name}, {results['adam'].steps_run} steps", fontsize=10)
        axes.legend(fontsize=8, loc=places[surface])
    figure.suptitle(
        "AdaGrad, RMSProp and Adam from the same starts: each parameter gets its own step size",
        fontsize=11,
    )
    return to_png(figure, tight=True)


def step_sizes_png(runs: LectureRuns) -> bytes:
    """Each parameter's effective step size over time, per adaptive rule and surface."""
    figure = Figure(figsize=(11, 6.2))
    grid = figure.subplots(2, 3, sharey="row")
    for row, surface in zip(grid, ("bowl", "valley"), strict=True):
        for axes, rule in zip(row, ADAPTIVE_RULES, strict=True):
            result = runs.results[f"{surface}/{rule}"]
            rates, _ = per_parameter_rates(result)
            axes.plot(rates[:, 0], color="#1f77b4", lw=1.2, label="x (theta_1)")
            axes.plot(rates[:, 1], color="#d62728", lw=1.2, label="y (theta_2)")
            axes.axhline(result.config["optimizer"]["lr"], color="black", ls=":", lw=0.8)
            axes.set_yscale("log")
            axes.set_title(f"{rule} on {result.config['task']['name']}", fontsize=9)
            axes.set_xlabel("step", fontsize=8)
        row[0].set_ylabel("learning rate of parameter i", fontsize=9)
        row[0].legend(fontsize=8)
    figure.suptitle(
        "Each parameter's own learning rate, from the optimizer's state: eta / sqrt(delta + r_i) "
        "(AdaGrad, RMSProp), epsilon / (sqrt(r^_i) + delta) (Adam); dotted: lr",
        fontsize=10,
    )
    return to_png(figure, tight=True)
