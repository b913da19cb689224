"""Load benchmarks for scripts/bench.py: a sweep against its MLflow floor, and long trials."""

import json
import os
import pickle
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench_sweep import GRID
from bench_targets import TARGETS, SqliteTarget

SCRIPTS = Path(__file__).resolve().parent
MOMENTA = [0.0, 0.3, 0.6, 0.9]
TICKS = os.sysconf("SC_CLK_TCK")


class ProcessTreeCpu:
    """CPU seconds of every process under `root`, by role, read from /proc every `interval` s.

    A process's last fraction of an interval before it exits is not seen. (getrusage's count of
    reaped children would miss more: Ray's workers are not reaped through the driver.)
    """

    def __init__(self, root: int, command: list[str], interval: float = 0.2):
        self.root, self.command, self.interval = root, command, interval
        self.seen: dict[int, tuple[str, float]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.wait(self.interval):
            self.sample()

    def sample(self):
        parents, stats = {}, {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
                command = Path(f"/proc/{entry}/cmdline").read_bytes()
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (name) "
            pid = int(entry)
            parents[pid] = int(fields[1])
            cpu = (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime
            stats[pid] = (command.decode(errors="replace").rstrip("\0").split("\0"), cpu)
        for pid, (command, cpu) in stats.items():
            ancestor = pid
            while ancestor not in (self.root, 0, 1) and ancestor in parents:
                ancestor = parents[ancestor]
            if ancestor == self.root:
                # An exited process not yet reaped has no command line: it keeps its role.
                known = self.seen.get(pid, ("",))[0]
                role = known if known and command == [""] else self.role(pid, command)
                self.seen[pid] = (role, cpu)

    def role(self, pid: int, command: list[str]) -> str:
        if pid == self.root:
            return "driver"
        if command[0].startswith("ray::"):
            return "Ray workers"
        if command[1:2] == self.command[1:2]:
            return "store process"  # forked from the driver: python scripts/sweep.py ...
        return "Ray's own processes"

    def stop(self) -> dict[str, float]:
        self._stop.set()
        self._thread.join()
        by_role: dict[str, float] = {}
        for role, cpu in self.seen.values():
            by_role[role] = by_role.get(role, 0.0) + cpu
        return by_role


def run_measured(command: list[str], cwd: Path) -> tuple[float, float, dict[str, float], str]:
    """(wall s, CPU s of the whole process tree, CPU s by role, stdout) of one command."""
    started = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    sampler = ProcessTreeCpu(process.pid, command)
    stdout, stderr = process.communicate()
    wall = time.perf_counter() - started
    by_role = sampler.stop()
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(command[1:3])} exited {process.returncode}:\n{stderr}")
    return wall, sum(by_role.values()), by_role, stdout


def sweep_command(grid: list[str], store: Path | None) -> list[str]:
    tracking = f"tracking.uri=sqlite:///{store}/mlflow.db" if store else "tracking=none"
    return [sys.executable, str(SCRIPTS / "sweep.py"), *grid, tracking]


def train_loss_points(store: Path) -> int:
    return SqliteTarget(store.parent).points(store.name)


def cpu_line(by_role: dict[str, float], total: float, wall: float) -> str:
    shares = ", ".join(f"{role} {100 * cpu / wall:.0f}%" for role, cpu in sorted(by_role.items()))
    return f"CPU, % of one core over the wall time: {shares}; whole tree {100 * total / wall:.0f}%"


# ---- load: many short trials, against the MLflow floor ------------------------------------


def load_grid(trials: int, steps: int, cpus: int) -> list[str]:
    return [
        "sweep=quadratic",
        f"optimizer.lr=logspace(1e-3,0.03,{max(1, trials // len(MOMENTA))})",
        "optimizer.momentum=" + ",".join(map(str, MOMENTA)),
        f"trainer.steps={steps}",
        f"ray.num_cpus={cpus}",
    ]


def floor_results(grid: list[str], path: Path) -> None:
    """The sweep's trials as Results, pickled to `path` for the floor: one trial trained for a
    real curve and figure, each Result carrying its own trial's config and id."""
    from dataclasses import replace

    from trainer.config.compose import hydra_context
    from trainer.sweep.plan.compose import compose_sweep
    from trainer.training.trial import run_trial

    with hydra_context() as loader:
        trials = compose_sweep(grid, loader)[1].trials
    template = run_trial(trials[0].config, trials[0].trial_id)
    results = [replace(template, config=t.config, trial_id=t.trial_id) for t in trials]
    path.write_bytes(pickle.dumps(results))


def run_floor(uri: str, experiment: str, results: str) -> None:
    """The floor, in a process of its own: MLflow's import, a fresh store or experiment, a
    parent run, then exactly the calls the sweep's store makes per trial
    (tracking.log_result); no training, no Hydra, no Ray."""
    from trainer.tracking.run_record import log_result, open_store

    results = pickle.loads(Path(results).read_bytes())
    client, experiment_id = open_store(uri, experiment)
    parent = client.create_run(experiment_id, run_name="floor", tags={"sweep_id": "floor"})
    tags = {"mlflow.parentRunId": parent.info.run_id}
    started = time.perf_counter()
    for result in results:
        log_result(client, experiment_id, result, result.trial_id, tags)
    print(json.dumps({"loop_s": time.perf_counter() - started, "runs": len(results)}))


def add_load_args(parser):
    parser.add_argument("--trials", type=int, default=512)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--cpus", type=int, default=None)
    parser.add_argument("--repeats", type=int, default=1, help="median of this many (issue: 3)")
    parser.add_argument(
        "--store",
        choices=sorted(TARGETS),
        default="sqlite",
        help="sqlite: a fresh file each; server: an mlflow server on a PostgreSQL of its own",
    )


def bench_load(args):
    """Many short quadratic trials into a store, against a bare loop of the same MLflow calls."""
    cpus = args.cpus or os.cpu_count()
    grid = load_grid(args.trials, args.steps, cpus)
    sweeps, floors, elsewhere = [], [], {}
    with tempfile.TemporaryDirectory() as scratch:
        results = Path(scratch) / "results.pickle"
        floor_results(grid, results)
        target = TARGETS[args.store](Path(scratch))
        try:
            for repeat in range(args.repeats):
                for kind in ("sweep", "floor"):
                    name = f"{kind}{repeat}"
                    uri, experiment = target.uri(name)
                    cwd = Path(scratch) / f"cwd-{name}"
                    cwd.mkdir()
                    if kind == "sweep":
                        command = [sys.executable, str(SCRIPTS / "sweep.py"), *grid]
                        command += [f"tracking.uri={uri}", f"tracking.experiment={experiment}"]
                    else:
                        command = [sys.executable, __file__, "floor", uri, experiment, str(results)]
                    before = target.cpu()
                    wall, total, by_role, stdout = run_measured(command, cwd)
                    spent = {k: v - before[k] for k, v in target.cpu().items()}
                    elsewhere[name] = spent
                    if kind == "sweep":
                        parent = target.parent_metrics(name)
                        sweeps.append((wall, parent, total, by_role, target.points(name), name))
                    else:
                        floors.append((wall, json.loads(stdout.splitlines()[-1]), name))
        finally:
            target.close()
    report_load(args, cpus, target.label, sweeps, floors, elsewhere)


def report_load(args, cpus, label, sweeps, floors, elsewhere) -> None:
    median = sorted(sweeps, key=lambda s: s[0])[len(sweeps) // 2]
    wall, parent, total, by_role, points, name = median
    floor_wall = statistics.median(f[0] for f in floors)
    loop = statistics.median(f[1]["loop_s"] for f in floors)
    runs = floors[0][1]["runs"]
    driver = parent["wall_time_s"]
    print(
        f"{runs} quadratic trials of {args.steps} steps on {cpus} CPUs, {points // runs} "
        f"train_loss points each; {label}; medians of {args.repeats}"
    )
    print(f"{'':<34}{'whole process':>14}{'in the loop':>13}")
    print(f"{'MLflow floor (the same calls)':<34}{floor_wall:>12.1f} s{loop:>11.1f} s")
    print(f"{'sweep':<34}{wall:>12.1f} s{driver:>11.1f} s   (the driver's wall_time_s)")
    print(
        f"sweep / floor: {wall / floor_wall:.2f} whole process (goal <= 1.5), "
        f"{driver / loop:.2f} loop; {runs / driver:.1f} trials/s, floor {runs / loop:.1f} runs/s"
    )
    print(f"logging in the store process: {parent['logging_s']:.1f} s")
    print(cpu_line(by_role, total, wall))
    for kind, run in (("sweep", name), ("floor", floors[0][2])):
        if elsewhere.get(run):
            shares = ", ".join(f"{k} {v:.1f} s" for k, v in elsewhere[run].items())
            print(f"CPU outside the measured process during the {kind}: {shares}")


# ---- long: 10,000-step digits trials, tracking's cost ----------------------------------------


def add_long_args(parser):
    parser.add_argument("--steps", type=int, default=10_000)
    parser.add_argument("--cpus", type=int, default=None)
    parser.add_argument("--repeats", type=int, default=1, help="median of this many (issue: 3)")


def bench_long(args):
    """32 digits trials of 10,000 steps: default log_every vs tracking=none vs log_every=1."""
    cpus = args.cpus or os.cpu_count()
    grid = [
        *(o for o in GRID if not o.startswith(("trainer.steps", "trainer.eval_every"))),
        f"trainer.steps={args.steps}",
        f"trainer.eval_every={args.steps}",
        f"ray.num_cpus={cpus}",
    ]
    variants = {
        "tracking=none": (grid, False),
        "default log_every": (grid, True),
        "log_every=1": ([*grid, "trainer.log_every=1"], True),
    }
    measured = {name: [] for name in variants}
    with tempfile.TemporaryDirectory() as scratch:
        for repeat in range(args.repeats):
            for number, (name, (overrides, tracked)) in enumerate(variants.items()):
                folder = Path(scratch) / f"{repeat}-{number}"
                folder.mkdir()
                command = sweep_command(overrides, folder if tracked else None)
                wall, total, by_role, _ = run_measured(command, folder)
                points = train_loss_points(folder) if tracked else 0
                measured[name].append((wall, points, total, by_role))
    median = {
        name: sorted(runs, key=lambda run: run[0])[len(runs) // 2]
        for name, runs in measured.items()
    }
    print(f"32 digits trials of {args.steps} steps on {cpus} CPUs; medians of {args.repeats}")
    for name, (wall, points, total, by_role) in median.items():
        print(f"{name:<20}{wall:8.1f} s  {points:>8} train_loss points")
        print(f"{'':<20}{cpu_line(by_role, total, wall)}")
    none, default, every = (median[n][0] for n in variants)
    print(f"default log_every / tracking=none: {default / none:.2f} (goal <= 1.25)")
    extra = median["log_every=1"][1] - median["default log_every"][1]
    if extra > 0:
        print(
            f"log_every=1: {every / none:.2f} x tracking=none; "
            f"{1e6 * (every - default) / extra:.0f} us per extra tracked point"
        )


if __name__ == "__main__":
    if sys.argv[1] == "floor":
        run_floor(sys.argv[2], sys.argv[3], sys.argv[4])
