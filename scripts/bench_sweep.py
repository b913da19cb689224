"""Sweep benchmarks for scripts/bench.py: our sweep vs Ray Tune vs serial loops."""

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parent
A, B, C, D = (
    "(a) gradsweep",
    "(b) Ray Tune + MLflow",
    "(c) serial hand-written loop",
    "(d) serial engine loop",
)
MOMENTA = [0.0, 0.5, 0.9, 0.99]
STEPS = 200
# The 32-trial grid of the issue: digits MLP 64-64-10, 200 steps of batch 64. tanh, stated
# here because the named default sweep (applied by scripts/sweep.py) would make it ReLU.
GRID = [
    "task=digits_mlp",
    "task.activation=tanh",
    "optimizer=momentum",
    "optimizer.lr=logspace(1e-3,30,8)",
    "optimizer.momentum=" + ",".join(map(str, MOMENTA)),
    f"trainer.steps={STEPS}",
    "trainer.batch_size=64",
    f"trainer.eval_every={STEPS}",
]


def trial_configs() -> list[dict]:
    """The grid's 32 resolved configs, composed the way a sweep composes them."""
    from trainer.config.compose import hydra_context
    from trainer.sweep.plan.grid import expand

    with hydra_context() as loader:
        return [trial.config for trial in expand({}, GRID, loader).trials]


def timed(command: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    subprocess.run(
        command, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    return time.perf_counter() - started


def ours(folder: Path, cpus: int) -> float:
    """(a) `python scripts/sweep.py` into a fresh sqlite store, the whole command timed."""
    folder.mkdir()
    return timed(
        [
            sys.executable,
            str(SCRIPTS / "sweep.py"),
            *GRID,
            f"ray.num_cpus={cpus}",
            f"tracking.uri=sqlite:///{folder}/mlflow.db",
        ],
        folder,
    )


def tune(folder: Path, cpus: int) -> float:
    """(b) Ray Tune: Tuner + grid_search, tune.report every step, MLflowLoggerCallback."""
    folder.mkdir()
    return timed(
        [sys.executable, str(SCRIPTS / "bench_sweep.py"), "tune", str(folder), str(cpus)], folder
    )


def serial_setup(configs: list[dict]) -> dict:
    """What bench_serial.py needs of the grid: its points and the settings they share."""
    from trainer.tasks.digits_mlp import CLASSES, PIXELS

    task, trainer = configs[0]["task"], configs[0]["trainer"]
    return {
        "points": [[c["optimizer"]["lr"], c["optimizer"]["momentum"]] for c in configs],
        "sizes": [PIXELS, *task["hidden"], CLASSES],
        "val_fraction": task["val_fraction"],
        "data_seed": task["data_seed"],
        "seed": trainer["seed"],
        "batch_size": trainer["batch_size"],
        "steps": trainer["steps"],
        "factor": trainer["divergence"]["factor"],
    }


def serial(folder: Path, setup: dict) -> tuple[float, list[dict]]:
    """(c) The same trainings in one plain loop of the hand-written numpy step; its results."""
    folder.mkdir()
    (folder / "setup.json").write_text(json.dumps(setup))
    script = str(SCRIPTS / "bench_serial.py")
    seconds = timed([sys.executable, script, "setup.json", "results.json"], folder)
    return seconds, json.loads((folder / "results.json").read_text())


def engine_serial(folder: Path) -> float:
    """(d) The same trainings in one plain loop through the engine (trainer.training.loop.train)."""
    folder.mkdir()
    return timed([sys.executable, str(SCRIPTS / "bench_sweep.py"), "engine"], folder)


def run_tune(folder: str, cpus: int) -> None:
    import ray
    from ray import tune as ray_tune
    from ray.air.integrations.mlflow import MLflowLoggerCallback

    from trainer.training.loop import train

    configs = {(c["optimizer"]["lr"], c["optimizer"]["momentum"]): c for c in trial_configs()}
    lrs = sorted({lr for lr, _ in configs})

    def trainable(space):
        config = configs[(space["lr"], space["momentum"])]
        train(config, on_step=lambda step, loss: ray_tune.report({"train_loss": loss}))

    ray.init(num_cpus=cpus, include_dashboard=False, logging_level="warning")
    tuner = ray_tune.Tuner(
        trainable,
        param_space={"lr": ray_tune.grid_search(lrs), "momentum": ray_tune.grid_search(MOMENTA)},
        run_config=ray_tune.RunConfig(
            storage_path=folder,
            name="tune",
            verbose=0,
            callbacks=[
                MLflowLoggerCallback(
                    tracking_uri=f"sqlite:///{folder}/mlflow.db",
                    experiment_name="tune",
                    save_artifact=False,
                )
            ],
        ),
    )
    tuner.fit()


def run_engine_loop() -> None:
    from trainer.training.loop import train

    for config in trial_configs():
        train(config)


def add_sweep_args(parser):
    parser.add_argument("--cpus", type=int, default=None, help="Ray CPUs (default: all)")
    parser.add_argument("--skip-tune", action="store_true", help="leave out Ray Tune (b)")
    parser.add_argument(
        "--repeats", type=int, default=3, help="runs of (a), (c), (d), alternating; medians"
    )


def bench_sweep(args):
    """The 32-trial digits grid four ways: this sweep, Ray Tune + MLflow, serial loops."""
    from trainer import contract

    cpus = args.cpus or os.cpu_count()
    print(
        f"32 trials (digits MLP 64-64-10, {STEPS} steps, batch 64, train_loss every step) "
        f"on {cpus} CPUs; each variant a fresh process (and a fresh sqlite store); "
        f"medians of {args.repeats}"
    )
    setup = serial_setup(trial_configs())
    times = {A: [], C: [], D: []}
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        for i in range(args.repeats):
            times[A].append(ours(folder / f"a{i}", cpus))
            seconds, hand_results = serial(folder / f"c{i}", setup)
            times[C].append(seconds)
            times[D].append(engine_serial(folder / f"d{i}"))
        if not args.skip_tune:
            times[B] = [tune(folder / "b", cpus)]
        parent = read_parent(folder / "a0")
        agreement = compare(folder / "a0", setup, hand_results)
    median = {name: statistics.median(runs) for name, runs in times.items()}
    for name, runs in times.items():
        each = ", ".join(f"{t:.1f}" for t in runs)
        print(f"{name:<30}{median[name]:8.1f} s   ({each})")
    if B in median:
        print(f"(b)/(a) = {median[B] / median[A]:.1f}   (goal >= 20)")
    print(f"(a)/(c) = {median[A] / median[C]:.2f}   (goal <= 3)")
    print(f"(a)/(d) = {median[A] / median[D]:.2f}   (the engine's loop in place of the hand one)")
    print(agreement)
    print(
        f"inside (a): sweep driver {parent[contract.WALL_TIME_S]:.1f} s, of which logging "
        f"{parent[contract.LOGGING_S]:.1f} s (in its store process); outside it: the interpreter, "
        "imports, the grid, and Ray's shutdown"
    )


def compare(folder: Path, setup: dict, hand_results: list[dict]) -> str:
    """Whether (c) computed what (a) logged: final train losses, and where trials diverged."""
    from mlflow import MlflowClient

    from trainer import contract

    client = MlflowClient(f"sqlite:///{folder}/mlflow.db")
    logged = {}
    trials = f"tags.{contract.TRIAL_ID} != ''"
    for run in client.search_runs(["1"], filter_string=trials, max_results=1000):
        point = (
            float(run.data.params["optimizer.lr"]),
            float(run.data.params["optimizer.momentum"]),
        )
        step = run.data.tags.get(contract.DIVERGENCE_STEP)
        loss = run.data.metrics.get(contract.FINAL_TRAIN_LOSS)
        logged[point] = (loss, None if step is None else int(step))
    equal, chaotic, same_step, diverged = 0, [], 0, 0
    for (lr, momentum), hand in zip(setup["points"], hand_results, strict=True):
        loss, step = logged[(lr, momentum)]
        if "divergence_step" in hand or step is not None:
            diverged += 1
            same_step += hand.get("divergence_step") == step
        elif abs(hand["final_train_loss"] - loss) <= 1e-9 * abs(loss):
            equal += 1
        else:
            chaotic.append(lr)
    text = (
        f"(c) computes what (a) logged: final train loss equal to 1e-9 on {equal} of "
        f"{equal + len(chaotic)} converged trials"
    )
    if chaotic:
        text += (
            f"; the other {len(chaotic)} (lr >= {min(chaotic):g}) train chaotically, where the "
            "engine's and the hand-written step's last-digit rounding differences grow"
        )
    return text + f"; divergence at the same step on {same_step} of {diverged} diverged"


def read_parent(folder: Path) -> dict:
    """The parent run's metrics (wall_time_s, logging_s, ...) of the sweep stored in `folder`."""
    from mlflow import MlflowClient

    from trainer import contract

    client = MlflowClient(f"sqlite:///{folder}/mlflow.db")
    [parent] = client.search_runs(["1"], filter_string=f"tags.{contract.SWEEP_ID} != ''")
    return parent.data.metrics


if __name__ == "__main__":
    if sys.argv[1] == "tune":
        run_tune(sys.argv[2], int(sys.argv[3]))
    elif sys.argv[1] == "engine":
        run_engine_loop()
    else:
        print(json.dumps({"usage": "run through scripts/bench.py sweep"}))
