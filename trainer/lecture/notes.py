"""lecture.md: the pictures in the lecture's order, with the numbers measured in this run."""

import numpy as np

from trainer.lecture.runs import (
    ADAPTIVE_RULES,
    LEARNING_RATES,
    MOMENTUM_RULES,
    TARGET,
    LectureRuns,
    compared_rates,
    reached,
)
from trainer.lecture.step_sizes import DEFINITION, per_parameter_rates
from trainer.lecture.worked_example import WorkedExample


def lecture_md(example: WorkedExample, runs: LectureRuns) -> str:
    sections = [
        "# The lecture, reproduced\n\nEvery picture below was drawn in this run from the "
        "autodiff engine, the optimizers and the trainer; every number was measured here.",
        _graph_sections(example),
        _sgd_section(runs),
        _learning_rate_section(runs),
        _momentum_section(runs),
        _adaptive_section(runs),
        _table(runs),
    ]
    return "\n\n".join(sections) + "\n"


def _graph_sections(example: WorkedExample) -> str:
    f = example.output
    grads = ", ".join(f"df/d{x} = {example.by_name(x).grad.item():g}" for x in ("x1", "x2", "x3"))
    z = example.by_name("z")
    return (
        "## 1. The worked example (`worked_example.png`, `worked_example.dot`)\n\n"
        f"f(x1, x2, x3) = (x1 + x2) * x3 at (-2, 5, -4): the forward pass gives z = "
        f"{z.data.item():g} and f = {f.data.item():g}; one backward pass gives {grads}. "
        "Each edge carries its local gradient, computed by the engine with a backward pass "
        "seeded at the edge's output node.\n\n"
        "## 2. Local and global gradient (`local_global_gradient.png`)\n\n"
        f"At node z the upstream (global) gradient df/dz = {z.grad.item():g} arrives from f; "
        "multiplied by each local gradient dz/dx = 1 it gives the downstream gradients "
        f"df/dx1 = df/dx2 = {example.by_name('x1').grad.item():g}."
    )


def _sgd_section(runs: LectureRuns) -> str:
    result = runs.results["zigzag"]
    task = result.config["task"]
    lr = result.config["optimizer"]["lr"]
    steep, shallow = 1 - lr * task["a"] * task["condition"], 1 - lr * task["a"]
    return (
        "## 3. SGD on the steep/shallow bowl (`sgd_zigzag.png`)\n\n"
        f"f = 0.5 (a x^2 + b y^2) with b/a = {task['condition']:g}, lr = {lr:.3g} "
        f"({lr / runs.limit:g} of the stability limit 2/lambda_max = {runs.limit:.3g}). Each step "
        f"multiplies y by 1 - lr b = {steep:.3g}, so y flips sign every step (the jitter), and x "
        f"by 1 - lr a = {shallow:.3g}, so x creeps toward the minimum (the slow progress). "
        f"It reached {TARGET} {reached(result)}."
    )


def _learning_rate_section(runs: LectureRuns) -> str:
    lines = []
    for label, fraction in LEARNING_RATES.items():
        result = runs.results[f"lr/{label}"]
        if result.divergence is not None:
            event = result.divergence
            what = f"diverged at step {event.step} ({event.reason}, the trainer's own monitor)"
        else:
            final = result.train_loss[-1]
            what = f"final loss {final:.3g}, {TARGET} {reached(result)}"
        lr = result.config["optimizer"]["lr"]
        lines.append(f"- {label}: lr = {fraction:g} x 2/lambda_max = {lr:.3g}: {what}")
    return (
        "## 4. Learning-rate effects (`learning_rates.png`, `learning_rates.json`)\n\n"
        "Four SGD runs whose rates are fractions of the bowl's stability limit "
        f"2/lambda_max = {runs.limit:.3g} (`Quadratic.max_stable_lr`): too small converges "
        "slowly, the right rate converges smoothly, a rate at the limit overshoots along the "
        "steep axis forever, and past it the run diverges.\n\n" + "\n".join(lines)
    )


def _momentum_section(runs: LectureRuns) -> str:
    results = {rule: runs.results[f"bowl/{rule}"] for rule in MOMENTUM_RULES}
    overshoot = {rule: results[rule].trajectory[:, 0].max() for rule in ("momentum", "nesterov")}
    ringing = {
        rule: np.abs(results[rule].trajectory[2:, 1]).max() for rule in ("momentum", "nesterov")
    }
    steps = ", ".join(f"{rule} {reached(result)}" for rule, result in results.items())
    return (
        "## 5. Momentum and Nesterov (`momentum.png`)\n\n"
        f"Same start, {compared_rates(runs)}, momentum "
        f"alpha = {results['momentum'].config['optimizer']['momentum']:g}. The velocity "
        f"carries momentum past the minimum to x = {overshoot['momentum']:.2f} and Nesterov, "
        f"whose gradient is taken at the interim point, to x = {overshoot['nesterov']:.2f}, "
        f"before both damp out. At this rate momentum also rings along the steep axis (|y| up "
        f"to {ringing['momentum']:.2f} after the first step), which Nesterov's look-ahead damps "
        f"(|y| at most {ringing['nesterov']:.2g}). Reached {TARGET}: {steps}."
    )


def _adaptive_section(runs: LectureRuns) -> str:
    bowl = {rule: runs.results[f"bowl/{rule}"] for rule in ADAPTIVE_RULES}
    valley = {rule: runs.results[f"valley/{rule}"] for rule in ADAPTIVE_RULES}
    on_bowl = ", ".join(f"{rule} {reached(result)}" for rule, result in bowl.items())
    on_valley = ", ".join(f"{rule} {reached(result)}" for rule, result in valley.items())
    rates = per_parameter_rates(bowl["adagrad"])[0][-1]
    return (
        "## 6. AdaGrad, RMSProp, Adam (`adaptive_paths.png`, `adaptive_rates.png`)\n\n"
        f"Reached {TARGET} on the bowl: {on_bowl}; on Rosenbrock: {on_valley}. "
        "RMSProp with a constant rate ends in a jitter about as wide as its lr. "
        f"`adaptive_rates.png` plots each parameter's {DEFINITION}. On the bowl the steep "
        "parameter y has the larger partial derivatives, so its rate shrinks more: after "
        f"{bowl['adagrad'].steps_run} steps AdaGrad's rates are x {rates[0]:.3g}, y {rates[1]:.3g}."
    )


def _table(runs: LectureRuns) -> str:
    rows = [f"| optimizer | task | lr | {TARGET} |", "|---|---|---|---|"]
    for key, result in runs.results.items():
        if key.startswith(("bowl/", "valley/")):
            rule, task = result.config["optimizer"]["name"], result.config["task"]["name"]
            lr = result.config["optimizer"]["lr"]
            rows.append(f"| {rule} | {task} | {lr:.3g} | {reached(result)} |")
    return f"## Steps to {TARGET}\n\n" + "\n".join(rows)
