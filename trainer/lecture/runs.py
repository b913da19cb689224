"""The lecture's training runs: configs composed from conf/lecture.yaml, run by `train`."""

from dataclasses import dataclass

import numpy as np

from trainer.config.compose import TrialChecker
from trainer.config.errors import ConfigError
from trainer.training.build import build_task
from trainer.training.loop import train
from trainer.training.result import Result

# Fractions of the bowl's stability limit 2 / lambda_max. At half of it SGD solves the steep
# axis in one step (1 - lr * lambda_max = 0); at the limit the steep coordinate flips sign
# forever; past it the steep coordinate grows by |1 - lr * lambda_max| > 1 every step.
LEARNING_RATES = {"too small": 0.05, "right": 0.5, "too large": 1.0, "far too large": 1.5}
# SGD's path picture: below the limit, so it converges, but far enough above half of it that
# the steep coordinate overshoots (1 - lr * lambda_max = -0.8) and the path zigzags.
ZIGZAG = 0.9
# Momentum and Nesterov are compared with SGD at the "right" rate (Nesterov's own limit is
# lower than heavy-ball momentum's, so the SGD zigzag rate would make it diverge).
COMPARED = LEARNING_RATES["right"]
MOMENTUM_RULES = ("sgd", "momentum", "nesterov")
ADAPTIVE_RULES = ("adagrad", "rmsprop", "adam")
TARGET_LOSS = 1e-6
TARGET = "loss < 1e-6"


@dataclass
class LectureRuns:
    """Every run the pictures are drawn from, by key: `zigzag`, `lr/<label>`, `bowl/<rule>`,
    `valley/<rule>`; `limit` is the bowl's stability limit for SGD."""

    limit: float
    configs: dict[str, dict]
    results: dict[str, Result]

    def summary(self) -> str:
        """One line per run: its rate, outcome and when its loss fell below the target."""
        lines = [f"stability limit 2/lambda_max of the bowl: {self.limit:.4g}"]
        for key, result in self.results.items():
            lr = result.config["optimizer"]["lr"]
            event = result.divergence
            outcome = f"diverged at step {event.step}" if event else f"{TARGET} {reached(result)}"
            lines.append(f"{key:<18} lr={lr:<8.3g} {outcome}")
        return "\n".join(lines)


def stability_limit(plain: dict) -> float:
    """SGD's largest stable rate on the bowl, 2 / lambda_max, asked of the task itself."""
    return build_task(plain["bowl"], seed=plain["trainer"]["seed"]).max_stable_lr()


def checked_configs(plain: dict) -> tuple[float, dict[str, dict]]:
    """`lecture_configs`, every one checked like a training run's; ConfigError names the key."""
    steps = plain["lecture"]["valley_steps"]
    if not steps > 0:
        raise ConfigError(f"lecture.valley_steps={steps} is not allowed: it must be > 0")
    checker = TrialChecker()
    # The bowl is checked (built) before its stability limit is asked of it.
    _check(checker, plain, trial(plain, "bowl", plain["optimizers"]["adam"]))
    limit, configs = lecture_configs(plain)
    for config in configs.values():
        _check(checker, plain, config)
    return limit, configs


def _check(checker: TrialChecker, plain: dict, config: dict) -> None:
    """TrialChecker's one line, naming the key as this script's config spells it
    (`optimizers.adam.lr`, `bowl.condition`) rather than a training run's."""
    try:
        checker.check(config)
    except ConfigError as error:
        text = str(error)
        task_key = "bowl" if config["task"] == plain["bowl"] else "valley"
        for group, key in (
            ("optimizer", f"optimizers.{config['optimizer']['name']}"),
            ("task", task_key),
        ):
            if text.startswith(group):
                text = key + text[len(group) :]
        raise ConfigError(text) from None


def lecture_configs(plain: dict) -> tuple[float, dict[str, dict]]:
    """(stability limit, run key -> trial config) for every run of the lecture."""
    limit = stability_limit(plain)
    rules = plain["optimizers"]
    configs = {"zigzag": trial(plain, "bowl", with_lr(rules["sgd"], ZIGZAG * limit))}
    for label, fraction in LEARNING_RATES.items():
        sgd = dict(rules["sgd"], lr=fraction * limit)
        configs[f"lr/{label}"] = trial(plain, "bowl", sgd)
    for name in MOMENTUM_RULES:
        configs[f"bowl/{name}"] = trial(plain, "bowl", with_lr(rules[name], COMPARED * limit))
    for name in ADAPTIVE_RULES:
        configs[f"bowl/{name}"] = trial(plain, "bowl", rules[name])
        steps = plain["lecture"]["valley_steps"]
        configs[f"valley/{name}"] = trial(plain, "valley", rules[name], steps)
    return limit, configs


def with_lr(rule: dict, lr: float) -> dict:
    """The rule's config, its `lr: .nan` (not set) filled in; a rate the user gave is kept."""
    return dict(rule, lr=lr) if np.isnan(rule["lr"]) else rule


def trial(plain: dict, task_key: str, optimizer: dict, steps: int | None = None) -> dict:
    settings = dict(plain["trainer"], steps=plain["trainer"]["steps"] if steps is None else steps)
    return {"optimizer": optimizer, "task": plain[task_key], "trainer": settings}


def run_all(limit: float, configs: dict[str, dict]) -> LectureRuns:
    return LectureRuns(limit, configs, {key: train(config) for key, config in configs.items()})


def steps_to(result: Result, target: float = TARGET_LOSS) -> int | None:
    """The first step whose loss is below `target` (loss at step k is after k updates)."""
    below = np.flatnonzero(result.train_loss < target)
    return int(below[0]) if below.size else None


def reached(result: Result) -> str:
    """When the loss fell below the target: "at step 439" or "never in 500 steps"."""
    step = steps_to(result)
    return f"at step {step}" if step is not None else f"never in {result.steps_run} steps"


def compared_rates(runs: LectureRuns) -> str:
    """ "same lr 0.02" for the momentum picture, or each rule's lr when a user set them apart."""
    rates = {
        rule: runs.results[f"bowl/{rule}"].config["optimizer"]["lr"] for rule in MOMENTUM_RULES
    }
    if len(set(rates.values())) == 1:
        return f"same lr {rates['sgd']:.3g}"
    return "lr " + ", ".join(f"{rule} {lr:.3g}" for rule, lr in rates.items())
