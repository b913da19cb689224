"""Sweep benchmarks for scripts/bench.py: our sweep vs Ray Tune vs a serial loop."""

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parent
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
    from trainer.config import hydra_context
    from trainer.sweep.grid import expand

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


def serial(folder: Path) -> float:
    """(c) The same 32 trainings in one plain loop: numpy only, no Ray, no logging."""
    folder.mkdir()
    return timed([sys.executable, str(SCRIPTS / "bench_sweep.py"), "serial"], folder)


def run_tune(folder: str, cpus: int) -> None:
    import ray
    from ray import tune as ray_tune
    from ray.air.integrations.mlflow import MLflowLoggerCallback

    from trainer.loop import train

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


def run_serial() -> None:
    from trainer.loop import train

    for config in trial_configs():
        train(config)


def add_sweep_args(parser):
    parser.add_argument("--cpus", type=int, default=None, help="Ray CPUs (default: all)")
    parser.add_argument("--skip-tune", action="store_true", help="leave out Ray Tune (b)")


def bench_sweep(args):
    """The 32-trial digits grid three ways: this sweep, Ray Tune + MLflow, a serial loop."""
    cpus = args.cpus or os.cpu_count()
    print(
        f"32 trials (digits MLP 64-64-10, {STEPS} steps, batch 64, train_loss every step) "
        f"on {cpus} CPUs; each variant a fresh process and a fresh sqlite store"
    )
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        times = {"(a) gradsweep": ours(folder / "a", cpus)}
        if not args.skip_tune:
            times["(b) Ray Tune + MLflow"] = tune(folder / "b", cpus)
        times["(c) serial numpy loop"] = serial(folder / "c")
        parent = read_parent(folder / "a")
    for name, seconds in times.items():
        print(f"{name:<24}{seconds:8.1f} s")
    a, c = times["(a) gradsweep"], times["(c) serial numpy loop"]
    if "(b) Ray Tune + MLflow" in times:
        print(f"(b)/(a) = {times['(b) Ray Tune + MLflow'] / a:.1f}   (goal >= 20)")
    print(f"(a)/(c) = {a / c:.2f}   (goal <= 3)")
    print(
        f"inside (a): sweep driver {parent['wall_time_s']:.1f} s, of which logging "
        f"{parent['logging_s']:.1f} s (in its store process); outside it: the interpreter, "
        "imports, the grid, and Ray's shutdown"
    )


def read_parent(folder: Path) -> dict:
    from mlflow import MlflowClient

    client = MlflowClient(f"sqlite:///{folder}/mlflow.db")
    [parent] = client.search_runs(["1"], filter_string="tags.sweep_id != ''")
    return parent.data.metrics


if __name__ == "__main__":
    if sys.argv[1] == "tune":
        run_tune(sys.argv[2], int(sys.argv[3]))
    elif sys.argv[1] == "serial":
        run_serial()
    else:
        print(json.dumps({"usage": "run through scripts/bench.py sweep"}))
