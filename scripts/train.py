"""Train one model under one Hydra-composed config and record it as one MLflow run."""

import functools
import shlex

from autodiff.heap import keep_freed_memory
from trainer.config import cli
from trainer.config.compose import (
    TrialChecker,
    compose_config,
    hydra_context,
    to_plain,
    trial_config,
    trial_id,
)
from trainer.config.errors import ConfigError
from trainer.config.help import config_yaml, take_cfg_flag, usage
from trainer.config.preflight import check_tracking
from trainer.config.redact import mask_uri
from trainer.sweep.plan.overrides import make_parser, parse
from trainer.tracking.naming import run_name
from trainer.training.result import FAILED
from trainer.training.trial import run_trial

USAGE = functools.partial(usage, "train")


def main(args: list[str]) -> int:
    overrides, show_config = take_cfg_flag(args)
    refuse_sweeps(overrides)
    with hydra_context():
        plain = to_plain(compose_config("train", overrides))
    if show_config:
        print(config_yaml(plain))
        return 0
    config = trial_config(plain)
    TrialChecker().check(config)
    tracking = plain["tracking"]
    uri = check_tracking(tracking) if tracking["enabled"] else None

    keep_freed_memory()  # this process trains step after step: it reuses what a step freed
    result = run_trial(config, trial_id(config))
    print(summary(result))
    if uri is not None:
        from trainer.tracking.provenance import provenance_tags
        from trainer.tracking.run_record import log_result, open_store  # MLflow loads only now

        client, experiment_id = open_store(uri, tracking["experiment"])
        code = provenance_tags([config])  # the code that produced it, as a sweep's runs
        run_id = log_result(client, experiment_id, result, run_name(config), code)
        shown = mask_uri(uri)
        print(f"logged run {run_id} to {shown}; view it with:")
        print(f"  mlflow ui --backend-store-uri {shown}")
    if result.outcome == FAILED:
        print(result.error)
        return 1
    return 0


def refuse_sweeps(overrides: list[str]) -> None:
    """A sweep value (`optimizer.lr=0.1,0.01`) asks for several runs: that is sweep.py's job."""
    sweeps = [o.input_line for o in parse(make_parser(), overrides) if o.is_sweep_override()]
    if sweeps:
        raise ConfigError(
            f"{sweeps[0]} is a sweep; train.py runs one config. Run the grid with: "
            f"python scripts/sweep.py {shlex.join(overrides)}"
        )


def summary(result) -> str:
    lines = [f"outcome: {result.outcome} after {result.steps_run} steps, {result.wall_time:.2f} s"]
    lines += [f"{key}: {value:.6g}" for key, value in result.final.items()]
    if result.divergence is not None:
        event = result.divergence
        lines.append(f"diverged at step {event.step}: {event.reason} (value {event.value:.3g})")
    return "\n".join(lines)


if __name__ == "__main__":
    cli.run(main, USAGE)
