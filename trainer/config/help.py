"""`--help` from the config repository as Hydra reads it, and `--cfg`: a composed trial's config."""

import yaml

from trainer.config.compose import hydra_context
from trainer.config.schema import CONF_DIR

# Hydra's own groups, and the structured schemas the yaml files extend: not a user's choice.
NOT_CHOICES = ("hydra", "schema")
# What a sweep's session configures; a single training run has no use for these groups.
SESSION_ONLY = ("sweep", "ray")
CFG_FLAGS = ("--cfg", "-c")
CFG_ARGUMENTS = ("job", "all")

INTRO = {
    "train": """usage: python scripts/train.py [OVERRIDE ...] [--cfg] [--help]

Train one model and record it as one MLflow run. Overrides use Hydra's grammar:
  python scripts/train.py optimizer=adam optimizer.lr=0.01 task=rosenbrock trainer.steps=2000
  python scripts/train.py tracking=none          (train without MLflow)
  python scripts/train.py --cfg                  (print the composed config, train nothing)
A value that is a sweep (0.1,0.01  range(..)  logspace(..)) belongs to scripts/sweep.py.""",
    "sweep": """usage: python scripts/sweep.py [OVERRIDE ...] [--cfg] [--help]

Run a grid of trials on Ray, each an MLflow run under the sweep's parent. Overrides use Hydra's
grammar; a value that is a sweep (a,b,c  range(..)  choice(..)  glob(..)  logspace(start,stop,
num)) is an axis of the grid, any other value is fixed for every trial:
  python scripts/sweep.py task=quadratic optimizer.lr=0.01,0.02,0.05 optimizer.momentum=0,0.9
  python scripts/sweep.py optimizer=sgd,momentum,nesterov,adagrad,rmsprop,adam
  python scripts/sweep.py sweep.dry_run=true     (print the grid, start nothing)
  python scripts/sweep.py --cfg                  (print the first trial's composed config)
  python scripts/sweep.py sweep=boundary         (search each point's lr where it diverges)
ranking: sweep.metric=final_val_loss|final_train_loss|final_val_accuracy  sweep.mode=min|max
search:  sweep.search=grid|boundary  sweep.boundary.low=..  .high=..  .rtol=0.02  .max_decades=3
session: ray.address=auto|host:port (or RAY_ADDRESS)  ray.num_cpus=N  ray.dashboard=true
         tracking.uri=...  tracking.experiment=...  sweep.ui=true (serve the dashboard after)""",
}


def usage(script: str) -> str:
    """The script's help: its intro, then each config group's options and each named sweep,
    as Hydra's config repository lists them (a new yaml in conf/ shows up here)."""
    lines = [INTRO[script], "", "config groups (group=option; conf/<group>/<option>.yaml):"]
    with hydra_context() as config_loader:
        groups = [g for g in sorted(config_loader.list_groups("")) if g not in NOT_CHOICES]
        if script == "train":
            groups = [g for g in groups if g not in SESSION_ONLY]
        options = {g: config_loader.get_group_options(g) for g in groups}
    width = max(len(group) for group in options)
    lines += [f"  {group:<{width}}  {', '.join(names)}" for group, names in options.items()]
    if "sweep" in options:
        lines.append("named sweeps (sweep=NAME):")
        width = max(len(name) for name in options["sweep"])
        for name in options["sweep"]:
            lines.append(f"  {name:<{width}}  {description(CONF_DIR / 'sweep' / f'{name}.yaml')}")
    return "\n".join(lines)


def description(path) -> str:
    """The first sentence of a config file's opening comment: what it is for."""
    comment = []
    for line in path.read_text().splitlines():
        if not line.startswith("#"):
            break
        comment.append(line.lstrip("# ").strip())
    text = " ".join(comment)
    end = text.find(". ")
    return text if end < 0 else text[: end + 1]


def take_cfg_flag(args: list[str]) -> tuple[list[str], bool]:
    """Hydra's `--cfg [job]` (or `-c`): the other arguments, and whether it was given."""
    rest, asked, previous = [], False, ""
    for arg in args:
        if arg in CFG_FLAGS:
            asked = True
        elif not (previous in CFG_FLAGS and arg in CFG_ARGUMENTS):
            rest.append(arg)
        previous = arg
    return rest, asked


def config_yaml(config: dict) -> str:
    return yaml.safe_dump(config, sort_keys=False).rstrip()
