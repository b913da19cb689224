"""`bench.py vectorize`: sweeps trained as populations against trials trained one by one, and
the default sweep against Ray's own floor, each a whole process, in one run.

"Beyond the floor" is a process's time minus that of a bare Ray process (import, `ray.init`, 4
empty tasks, shutdown) measured in the same run: what the sweep itself costs.
"""

import math
import statistics
import sys
import tempfile
from pathlib import Path

from bench_sweep import serial, serial_setup, timed

SCRIPTS = Path(__file__).resolve().parent
FLOOR_NAME = "bare Ray floor"
FLOOR = (
    "import ray\n"
    "ray.init(num_cpus={cpus}, include_dashboard=False, logging_level='warning')\n"
    "@ray.remote\n"
    "def nothing():\n"
    "    return None\n"
    "ray.get([nothing.remote() for _ in range(4)])\n"
    "ray.shutdown()\n"
)
QUADRATIC = [
    "sweep=quadratic",
    "optimizer.lr=logspace(5e-3,0.2,16)",
    "optimizer.momentum=0,0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.85,0.9,0.93,0.95,0.97,0.98,0.99",
    "tracking=none",
]
DIGITS = [
    "sweep=digits_mlp",
    "task.activation=tanh",
    "trainer.steps=2000",
    "trainer.eval_every=2000",
]


def floor(folder: Path, cpus: int) -> float:
    """A bare Ray process, timed whole."""
    return timed([sys.executable, "-c", FLOOR.format(cpus=cpus)], folder)


def sweep(folder: Path, cpus: int, *overrides: str) -> float:
    """`python scripts/sweep.py overrides...` in a fresh folder (its ./mlflow.db), timed whole."""
    folder.mkdir()
    command = [sys.executable, str(SCRIPTS / "sweep.py"), *overrides, f"ray.num_cpus={cpus}"]
    return timed(command, folder)


def rows(folder: Path) -> dict[str, dict]:
    """The sweep's rows in `folder`'s ./mlflow.db (load_sweep), by run name."""
    from mlflow import MlflowClient

    from trainer import contract
    from trainer.sweep import load_sweep

    uri = f"sqlite:///{folder}/mlflow.db"
    [parent] = MlflowClient(uri).search_runs(["1"], filter_string=f"tags.{contract.SWEEP_ID} != ''")
    return {row["run_name"]: row for row in load_sweep(parent.info.run_id, uri).rows}


def agreement(vectorised: dict, serial_rows: dict) -> str:
    """Final losses to 1e-12 relative and divergence steps, vectorised against per trial."""
    equal = same_step = diverged = 0
    for name, row in serial_rows.items():
        twin = vectorised[name]
        if row["divergence_step"] is not None or twin["divergence_step"] is not None:
            diverged += 1
            same_step += row["divergence_step"] == twin["divergence_step"]
        else:
            a, b = row["final_train_loss"], twin["final_train_loss"]
            equal += math.isclose(a, b, rel_tol=1e-12, abs_tol=0.0)
    converged = len(serial_rows) - diverged
    return (
        f"records: final train loss equal to 1e-12 on {equal} of {converged} converged trials, "
        f"divergence at the same step on {same_step} of {diverged} diverged"
    )


def default_setup() -> dict:
    """The default sweep's trials (scripts/sweep.py with no arguments), for the hand loop."""
    from trainer.config.compose import compose_config, hydra_context, to_plain
    from trainer.sweep.plan.grid import expand

    with hydra_context() as loader:
        params = to_plain(compose_config("sweep", []))["sweep"]["params"]
        grid = [f"{key}={value}" for key, value in params.items()]
        configs = [trial.config for trial in expand({}, grid, loader).trials]
    setup = serial_setup(configs)
    setup["activation"] = configs[0]["task"]["activation"]
    return setup


def add_vectorize_args(parser):
    parser.add_argument("--cpus", type=int, default=2, help="Ray CPUs (default: 2)")
    parser.add_argument("--repeats", type=int, default=1, help="rounds of every case; medians")
    parser.add_argument(
        "--quick", action="store_true", help="2,000 quadratic steps a trial, not 20,000"
    )
    parser.add_argument(
        "--default-only",
        action="store_true",
        help="only the floor, the default sweep and the hand loop (the last bar)",
    )


def bench_vectorize(args):
    """Vectorised against per-trial sweeps, and the default sweep against Ray's floor."""
    steps = "trainer.steps=2000" if args.quick else "trainer.steps=20000"
    quadratic = [*QUADRATIC, steps]
    cases = {
        "quadratic 256, vectorised": quadratic,
        "quadratic 256, per trial": [*quadratic, "sweep.vectorize=false"],
        "digits 32, vectorised": [*DIGITS, "tracking=none"],
        "digits 32, per trial": [*DIGITS, "tracking=none", "sweep.vectorize=false"],
        "digits 32 tracked, vectorised": DIGITS,
        "digits 32 tracked, per trial": [*DIGITS, "sweep.vectorize=false"],
        "default sweep": [],
    }
    if args.default_only:
        cases = {"default sweep": []}
    setup = default_setup()
    times = {name: [] for name in [FLOOR_NAME, *cases, HAND]}
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        for i in range(args.repeats):
            times[FLOOR_NAME].append(floor(folder, args.cpus))
            for n, (name, overrides) in enumerate(cases.items()):
                times[name].append(sweep(folder / f"{i}-{n}", args.cpus, *overrides))
            seconds, _ = serial(folder / f"{i}-hand", setup)
            times[HAND].append(seconds)
        tracked = "" if args.default_only else agreement(rows(folder / "0-4"), rows(folder / "0-5"))
    report(times, args, tracked)


HAND = "hand serial loop (default's trials)"
# (what, case, goal): per trial / vectorised, as times beyond the floor. The hand loop has no Ray:
# the default sweep's time beyond the floor is set against the loop's whole time.
GOALS = [
    ("quadratic, per trial / vectorised", "quadratic 256", ">= 20"),
    ("digits, per trial / vectorised", "digits 32", ">= 1.4"),
    ("digits tracked, per trial / vectorised", "digits 32 tracked", ">= 1"),
]


def report(times: dict, args, tracked: str) -> None:
    median = {name: statistics.median(runs) for name, runs in times.items()}
    base = median[FLOOR_NAME]
    print(f"on {args.cpus} CPUs, whole processes, medians of {args.repeats}")
    for name, seconds in median.items():
        beyond = (
            "" if name in (FLOOR_NAME, HAND) else f"   beyond the floor {seconds - base:6.1f} s"
        )
        runs = times[name]
        spread = f"   ({min(runs):.1f} to {max(runs):.1f})" if len(runs) > 1 else ""
        print(f"{name:<36}{seconds:7.1f} s{beyond}{spread}")
    for what, case, goal in [] if args.default_only else GOALS:
        slow, fast = median[f"{case}, per trial"] - base, median[f"{case}, vectorised"] - base
        print(f"{what:<40} {slow / fast:6.2f}   (goal {goal})")
    default = (median["default sweep"] - base) / median[HAND]
    print(f"{'default sweep beyond the floor / hand loop':<40} {default:6.2f}   (goal <= 1)")
    if tracked:
        print(tracked)
