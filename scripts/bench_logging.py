"""Logging benchmark for scripts/bench.py: writing one run to MLflow, next to training it."""

import statistics
import tempfile
import time

CASES = {
    "quadratic": ["task=quadratic", "optimizer=momentum", "optimizer.lr=0.01"],
    "digits_mlp 64": ["task=digits_mlp", "task.hidden=[64]", "optimizer=momentum"],
    "digits_mlp 256": ["task=digits_mlp", "task.hidden=[256]", "optimizer=momentum"],
}


def add_logging_args(parser):
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=5, help="median of this many")
    parser.add_argument("--per-point", action="store_true", help="also one log_metric per step")


def median_time(function, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def bench_logging(args):
    """One run of each task: training time vs its chunked log_batch logging (warm sqlite store)."""
    from trainer.config.compose import compose_config, hydra_context, to_plain, trial_config
    from trainer.training.loop import train

    started = time.perf_counter()
    from trainer.tracking.run_record import log_result, open_store

    imported = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        client, experiment_id = open_store(f"sqlite:///{folder}/mlflow.db", "bench")
        opened = time.perf_counter() - started
        print(
            f"one-time costs, not per run: MLflow import {imported:.2f} s, "
            f"new sqlite store {opened:.2f} s"
        )
        print(f"{'task':<16}{'steps':>6}{'train s':>10}{'log s':>9}{'log/train':>11}{'share':>8}")
        for name, overrides in CASES.items():
            with hydra_context():
                plain = to_plain(
                    compose_config("train", [*overrides, f"trainer.steps={args.steps}"])
                )
            config = trial_config(plain)
            result = train(config)
            train_s = median_time(lambda c=config: train(c), args.repeats)
            log_s = median_time(
                lambda r=result, n=name: log_result(client, experiment_id, r, n), args.repeats
            )
            print(
                f"{name:<16}{args.steps:>6}{train_s:>10.3f}{log_s:>9.3f}"
                f"{log_s / train_s:>10.0%}{log_s / (train_s + log_s):>8.0%}"
            )
            if args.per_point:
                run_id = client.create_run(experiment_id, run_name=f"{name} per point").info.run_id
                started = time.perf_counter()
                for step, value in enumerate(result.train_loss.tolist()):
                    client.log_metric(run_id, "train_loss", value, step=step)
                per_point = time.perf_counter() - started
                print(f"{'':<16}one log_metric call per step instead: {per_point:.1f} s")
    print("share = log / (train + log): logging's part of the run's wall time")
