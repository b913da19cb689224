"""Train one model under one Hydra-composed config and record it as one MLflow run."""

from trainer import cli
from trainer.config import (
    TrialChecker,
    compose_config,
    hydra_context,
    to_plain,
    trial_config,
    trial_id,
)
from trainer.naming import run_name
from trainer.preflight import check_tracking
from trainer.redact import mask_uri
from trainer.result import FAILED
from trainer.trial import run_trial

USAGE = """usage: python scripts/train.py [OVERRIDE ...]

Hydra overrides, e.g.: optimizer=adam optimizer.lr=0.01 task=rosenbrock trainer.steps=2000
groups: optimizer (sgd, momentum, nesterov, adagrad, rmsprop, adam),
        task (quadratic, rosenbrock, linear_regression, logistic_regression, digits_mlp),
        trainer, tracking (mlflow, none); tracking.uri=..., tracking.experiment=..."""


def main(overrides: list[str]) -> int:
    with hydra_context():
        plain = to_plain(compose_config("train", overrides))
    config = trial_config(plain)
    TrialChecker().check(config)
    tracking = plain["tracking"]
    uri = check_tracking(tracking) if tracking["enabled"] else None

    result = run_trial(config, trial_id(config))
    print(summary(result))
    if uri is not None:
        from trainer.tracking import log_result, open_store  # MLflow loads only now

        client, experiment_id = open_store(uri, tracking["experiment"])
        run_id = log_result(client, experiment_id, result, run_name(config))
        shown = mask_uri(uri)
        print(f"logged run {run_id} to {shown}; view it with:")
        print(f"  mlflow ui --backend-store-uri {shown}")
    if result.outcome == FAILED:
        print(result.error)
        return 1
    return 0


def summary(result) -> str:
    lines = [f"outcome: {result.outcome} after {result.steps_run} steps, {result.wall_time:.2f} s"]
    lines += [f"{key}: {value:.6g}" for key, value in result.final.items()]
    if result.divergence is not None:
        event = result.divergence
        lines.append(f"diverged at step {event.step}: {event.reason} (value {event.value:.3g})")
    return "\n".join(lines)


if __name__ == "__main__":
    cli.run(main, USAGE)
