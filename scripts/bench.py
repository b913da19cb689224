"""Benchmarks, one subcommand each: `python scripts/bench.py autodiff`."""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import statistics
import time
from functools import partial

import numpy as np
from bench_load import add_load_args, add_long_args, bench_load, bench_long
from bench_logging import add_logging_args, bench_logging
from bench_searches import add_searches_args, bench_searches
from bench_sweep import add_sweep_args, bench_sweep
from bench_vectorize import add_vectorize_args, bench_vectorize
from hand_mlp import hand_step
from hand_surfaces import quadratic_step, rosenbrock_step

import autodiff
from autodiff import nn
from autodiff.heap import keep_freed_memory
from optimizers import Momentum

# ---- autodiff: one training step, engine versus hand-written numpy ----------------------

# (batch, sizes, goal for engine/hand): the project's performance targets.
AUTODIFF_CASES = [(64, [64, 64, 10], 1.3), (256, [64, 256, 10], 1.05)]
LR = 0.01
MOMENTUM = 0.9
# (task, learning rate, momentum, goal): the sweeps' 2-D tasks, where the engine's per-op
# bookkeeping is most of the step. Momentum 0.99 keeps every coordinate of the quadratic's point
# at |lambda| = 0.995 per step, far from underflow (and its slow arithmetic) for 10^5 steps.
TASK_CASES = [("quadratic", 0.01, 0.99, 3.0), ("rosenbrock", 1e-4, 0.9, 3.0)]


def engine_step(model, optimizer, x, y):
    """Forward and backward through the autodiff engine, then the optimizers package's Momentum."""
    loss = autodiff.cross_entropy(model(x), y)
    loss.backward()
    optimizer.step()
    optimizer.zero_grad()
    return loss.data


def _make_side(side, batch, sizes):
    """Seeded data and MLP weights, the same for both sides; returns (step, parameter arrays)."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch, sizes[0]))
    y = rng.integers(0, sizes[-1], size=batch)
    model = nn.MLP(sizes, activation="tanh", seed=0)
    params = model.parameters()
    arrays = [p.data for p in params]
    if side == "engine":
        optimizer = Momentum(params, lr=LR, momentum=MOMENTUM)
        return (lambda: engine_step(model, optimizer, x, y)), arrays
    velocities = [np.zeros_like(a) for a in arrays]
    return (lambda: hand_step(arrays, velocities, x, y, LR, MOMENTUM)), arrays


def task_engine_step(task, optimizer):
    """The task's loss and its backward through the engine, then optimizers.Momentum."""
    loss = task.loss(None)
    loss.backward()
    optimizer.step()
    optimizer.zero_grad()
    return loss.data


def _make_task_side(side, name, lr, alpha):
    """The task's start, the same for both sides; returns (step, parameter arrays)."""
    from trainer.tasks.quadratic import Quadratic
    from trainer.tasks.rosenbrock import Rosenbrock

    task = {"quadratic": Quadratic, "rosenbrock": Rosenbrock}[name]()
    if side == "engine":
        optimizer = Momentum(task.parameters(), lr=lr, momentum=alpha)
        return (lambda: task_engine_step(task, optimizer)), [task.point.data]
    theta, velocity = task.point.data.copy(), np.zeros(2)
    if name == "quadratic":
        curvature = task.curvature
        return (lambda: quadratic_step(theta, velocity, curvature, lr, alpha)), [theta]
    return (lambda: rosenbrock_step(theta, velocity, lr, alpha)), [theta]


def _side_worker(conn, make, sides, glibc_heap):
    """Time blocks of steps of the given sides on request, in a process of their own.

    By default each side gets a process: in one process, whichever side grows the heap pays
    the page faults the other then reuses, which skews the ratio either way. Both sides keep
    freed memory as a training process does (autodiff/heap.py) unless `glibc_heap`.
    """
    if not glibc_heap:
        keep_freed_memory()
    made = {side: make(side) for side in sides}
    clock = time.perf_counter
    while (request := conn.recv()) is not None:
        side, steps = request
        step = made[side][0]
        times = []
        faults = _page_faults()
        for _ in range(steps):
            start = clock()
            step()
            times.append(clock() - start)
        conn.send((times, _page_faults() - faults))
    conn.send({side: arrays for side, (_, arrays) in made.items()})


def _page_faults():
    """Minor page faults of this process so far: memory the allocator handed back to the
    system and then took again, which costs microseconds per 4 KiB page on a VM."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


# The step is compared on one core: a BLAS that spreads a (256, 256) product over threads would
# time the machine's other load as much as the engine.
ONE_BLAS_THREAD = dict.fromkeys(("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"), "1")
SIDES = ("engine", "hand")


def _start_workers(make, glibc_heap, one_process):
    """{side: connection to the process that runs it}, and the processes."""
    ctx = multiprocessing.get_context("spawn")
    groups = [SIDES] if one_process else [(side,) for side in SIDES]
    conns, procs = {}, []
    saved_env = dict(os.environ)
    os.environ.update(ONE_BLAS_THREAD)  # read by each worker's numpy when it starts
    try:
        for group in groups:
            parent, child = ctx.Pipe()
            proc = ctx.Process(
                target=_side_worker, args=(child, make, group, glibc_heap), daemon=True
            )
            proc.start()
            conns.update(dict.fromkeys(group, parent))
            procs.append((proc, parent))
    finally:
        os.environ.clear()
        os.environ.update(saved_env)
    return conns, procs


def _bench_case(make, blocks, steps, warmup, glibc_heap=False, one_process=False):
    """{side: (median microseconds per step, page faults per step)} and the parameter drift."""
    conns, procs = _start_workers(make, glibc_heap, one_process)
    times = {side: [] for side in SIDES}
    faults = dict.fromkeys(SIDES, 0)
    try:
        for side in SIDES:
            conns[side].send((side, warmup))
            conns[side].recv()
        for b in range(blocks):
            # Short blocks alternate, and so does which side goes first, so that the load
            # of a shared machine falls on both sides alike.
            for side in SIDES if b % 2 == 0 else SIDES[::-1]:
                conns[side].send((side, steps))
                block_times, block_faults = conns[side].recv()
                times[side] += block_times
                faults[side] += block_faults
        finals = {}
        for _, conn in procs:
            conn.send(None)
            finals.update(conn.recv())
    finally:
        for proc, _ in procs:
            proc.join(timeout=10)
    # Both ran the same number of steps from the same start, so they must agree.
    drift = max(
        float(np.max(np.abs(a - b))) for a, b in zip(finals["engine"], finals["hand"], strict=True)
    )
    if drift > 1e-8:
        raise RuntimeError(f"engine and hand-written parameters differ by {drift:.3g}")
    per_step = {
        side: (statistics.median(times[side]) * 1e6, faults[side] / len(times[side]))
        for side in times
    }
    return per_step, drift


def add_autodiff_args(parser):
    parser.add_argument("--blocks", type=int, default=100, help="timed blocks per side")
    parser.add_argument("--steps", type=int, default=20, help="training steps per block")
    parser.add_argument("--warmup", type=int, default=50, help="untimed steps per side first")
    parser.add_argument(
        "--glibc-heap",
        action="store_true",
        help="leave glibc's allocator as it starts (both sides), which hands a step's freed "
        "arrays back to the system and faults them in again, instead of keeping them as a "
        "training process does (autodiff/heap.py)",
    )
    parser.add_argument(
        "--one-process",
        action="store_true",
        help="run both sides of a case in one process (the allocator's heap shared between "
        "them), as a step runs inside a larger program",
    )


def bench_autodiff(args):
    """Time one training step: autodiff engine versus hand-written numpy (MLP, quadratic,
    Rosenbrock)."""
    print(
        "one step = forward, backward, Momentum update; engine: autodiff + optimizers.Momentum, "
        "hand: all numpy written out; MLP: tanh, softmax cross-entropy; one BLAS thread"
    )
    where = "both sides in one process" if args.one_process else "each side in its own process"
    print(
        f"median over {args.blocks} x {args.steps} steps per side; {where}, blocks alternating"
        + ("; glibc's default heap" if args.glibc_heap else "; freed memory kept, as in training")
    )
    timing = (args.blocks, args.steps, args.warmup, args.glibc_heap, args.one_process)
    row = "{:<26}{:>10}{:>10}{:>7}{:>8}  {:<7}{:>17}"
    columns = ("engine us", "hand us", "ratio", "goal", "", "faults/step e, h")
    print(row.format("batch  sizes", *columns))
    drifts = []
    for batch, sizes, goal in AUTODIFF_CASES:
        per_step, drift = _bench_case(partial(_make_side, batch=batch, sizes=sizes), *timing)
        print(row.format(f"{batch:>5}  {sizes}", *_cells(per_step, goal)))
        drifts.append(drift)
    print(row.format("task   lr, momentum", *columns))
    for name, lr, alpha, goal in TASK_CASES:
        make = partial(_make_task_side, name=name, lr=lr, alpha=alpha)
        per_step, drift = _bench_case(make, *timing)
        print(row.format(f"{name:<11}{lr:g}, {alpha:g}", *_cells(per_step, goal)))
        drifts.append(drift)
    print(f"both sides end with the same parameters (max difference {max(drifts):.0e})")
    print("a benchmark to read, not a test: the ratios move with the machine's load")


def _cells(per_step, goal):
    """A row's cells after its name: engine and hand us, ratio, goal, verdict, page faults."""
    (engine_us, engine_faults), (hand_us, hand_faults) = per_step["engine"], per_step["hand"]
    ratio = engine_us / hand_us
    verdict = "ok" if ratio <= goal else "MISSED"
    faults = f"{engine_faults:.0f}, {hand_faults:.0f}"
    return f"{engine_us:.1f}", f"{hand_us:.1f}", f"{ratio:.2f}", f"<={goal:g}", verdict, faults


# ---- command table: add a subcommand with one entry ------------------------------------

COMMANDS = {
    "autodiff": (add_autodiff_args, bench_autodiff),
    "sweep": (add_sweep_args, bench_sweep),
    "load": (add_load_args, bench_load),
    "long": (add_long_args, bench_long),
    "logging": (add_logging_args, bench_logging),
    "searches": (add_searches_args, bench_searches),
    "vectorize": (add_vectorize_args, bench_vectorize),
}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    subparsers = parser.add_subparsers(dest="command", required=True)
    for name, (add_args, run) in COMMANDS.items():
        sub = subparsers.add_parser(name, help=run.__doc__.splitlines()[0])
        add_args(sub)
        sub.set_defaults(run=run)
    args = parser.parse_args(argv)
    args.run(args)


if __name__ == "__main__":
    main()
