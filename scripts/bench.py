"""Benchmarks, one subcommand each: `python scripts/bench.py autodiff`."""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import statistics
import time

import numpy as np
from bench_load import add_load_args, add_long_args, bench_load, bench_long
from bench_logging import add_logging_args, bench_logging
from bench_searches import add_searches_args, bench_searches
from bench_sweep import add_sweep_args, bench_sweep
from hand_mlp import hand_step

import autodiff
from autodiff import nn
from optimizers import Momentum

# ---- autodiff: one training step, engine versus hand-written numpy ----------------------

# (batch, sizes, goal for engine/hand): the project's performance targets.
AUTODIFF_CASES = [(64, [64, 64, 10], 1.5), (256, [64, 256, 10], 1.1)]
LR = 0.01
MOMENTUM = 0.9


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


def _side_worker(conn, side, batch, sizes):
    """Time blocks of steps of one side on request, in a process of its own.

    Separate processes keep separate heaps: in one process, whichever side grows the heap
    pays the page faults the other then reuses, which skews the ratio either way.
    """
    step, arrays = _make_side(side, batch, sizes)
    clock = time.perf_counter
    while steps := conn.recv():
        times = []
        faults = _page_faults()
        for _ in range(steps):
            start = clock()
            step()
            times.append(clock() - start)
        conn.send((times, _page_faults() - faults))
    conn.send(arrays)


def _page_faults():
    """Minor page faults of this process so far: memory the allocator handed back to the
    system and then took again, which costs microseconds per 4 KiB page on a VM."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


# glibc settings that keep freed memory in the process: no trimming of the heap top and no
# mmap for arrays below 16 MiB, so no step pays page faults for memory the last one released.
KEEP_HEAP = {"MALLOC_TRIM_THRESHOLD_": str(1 << 30), "MALLOC_MMAP_THRESHOLD_": str(16 << 20)}


def _bench_case(batch, sizes, blocks, steps, warmup, keep_heap=False):
    """{side: (median microseconds per step, page faults per step)} and the parameter drift."""
    ctx = multiprocessing.get_context("spawn")
    conns, procs = {}, []
    saved_env = dict(os.environ)
    if keep_heap:  # read by each worker's allocator when it starts
        os.environ.update(KEEP_HEAP)
    try:
        for side in ("engine", "hand"):
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=_side_worker, args=(child, side, batch, sizes), daemon=True)
            proc.start()
            conns[side] = parent
            procs.append(proc)
    finally:
        os.environ.clear()
        os.environ.update(saved_env)
    times = {"engine": [], "hand": []}
    faults = {"engine": 0, "hand": 0}
    try:
        for conn in conns.values():
            conn.send(warmup)
            conn.recv()
        for b in range(blocks):
            # Short blocks alternate, and so does which side goes first, so that the load
            # of a shared machine falls on both sides alike.
            for side in ("engine", "hand") if b % 2 == 0 else ("hand", "engine"):
                conns[side].send(steps)
                block_times, block_faults = conns[side].recv()
                times[side] += block_times
                faults[side] += block_faults
        finals = {}
        for side, conn in conns.items():
            conn.send(0)
            finals[side] = conn.recv()
    finally:
        for proc in procs:
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
        "--keep-heap",
        action="store_true",
        help="stop glibc handing freed memory back after each step (both sides), so page "
        "faults, which a loaded VM makes slow and erratic, drop out of the comparison",
    )


def bench_autodiff(args):
    """Time one MLP training step: autodiff engine versus hand-written numpy."""
    print(
        "one step = forward, backward, Momentum update; tanh MLP, softmax cross-entropy; "
        "engine: autodiff + optimizers.Momentum, hand: all numpy written out"
    )
    print(
        f"median over {args.blocks} x {args.steps} steps per side; "
        "each side in its own process, blocks alternating"
        + ("; heap kept (glibc trimming off)" if args.keep_heap else "")
    )
    row = "{:>5}  {:<14}{:>10}{:>10}{:>7}{:>7}  {:<7}{:>18}"
    header = ("batch", "sizes", "engine us", "hand us", "ratio", "goal", "", "faults/step e, h")
    print(row.format(*header))
    drifts = []
    for batch, sizes, goal in AUTODIFF_CASES:
        per_step, drift = _bench_case(
            batch, sizes, args.blocks, args.steps, args.warmup, args.keep_heap
        )
        (engine_us, engine_faults), (hand_us, hand_faults) = per_step["engine"], per_step["hand"]
        ratio = engine_us / hand_us
        cells = (f"{engine_us:.1f}", f"{hand_us:.1f}", f"{ratio:.2f}", f"<={goal}")
        verdict = "ok" if ratio <= goal else "MISSED"
        faults = f"{engine_faults:.0f}, {hand_faults:.0f}"
        print(row.format(batch, str(sizes), *cells, verdict, faults))
        drifts.append(drift)
    print(f"both sides end with the same parameters (max difference {max(drifts):.0e})")


# ---- command table: add a subcommand with one entry ------------------------------------

COMMANDS = {
    "autodiff": (add_autodiff_args, bench_autodiff),
    "sweep": (add_sweep_args, bench_sweep),
    "load": (add_load_args, bench_load),
    "long": (add_long_args, bench_long),
    "logging": (add_logging_args, bench_logging),
    "searches": (add_searches_args, bench_searches),
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
