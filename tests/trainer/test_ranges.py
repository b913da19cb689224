"""Each default in one place, each range declared as an Interval and reported in one format."""

import inspect
import re
import typing
from dataclasses import fields
from pathlib import Path

import pytest
from hydra.utils import get_class
from omegaconf import MISSING, OmegaConf

from trainer.config.compose import TrialChecker
from trainer.config.errors import ConfigError
from trainer.config.preflight import check_group_ranges
from trainer.config.schema import (
    DivergenceConf,
    OptimizerConf,
    RayConf,
    SweepConf,
    TrackingConf,
    TrainerConf,
    schema_of,
)

CONF = Path(__file__).resolve().parents[2] / "conf"
YAMLS = sorted((CONF / "optimizer").glob("*.yaml")) + sorted((CONF / "task").glob("*.yaml"))


@pytest.mark.parametrize("path", YAMLS, ids=lambda path: f"{path.parent.name}/{path.stem}")
def test_no_yaml_restates_a_default_its_class_declares(path):
    raw = OmegaConf.load(path)
    signature = inspect.signature(get_class(raw["_target_"]))
    defaulted = {name for name, p in signature.parameters.items() if p.default is not p.empty}
    assert not defaulted & set(raw), f"{path.name} repeats defaults of {raw['_target_']}"


def test_a_new_hyperparameter_reaches_the_config_from_its_class_alone():
    schema = schema_of(get_class("custom_optimizers.ClippedSGD"), OptimizerConf)
    declared = {f.name: (f.type, f.default) for f in fields(schema)}
    assert declared["clip"] == (float, 1.0)
    assert declared["lr"] == (float, MISSING)


# (overrides, the whole one line): `<group>.<key>=<value> is not allowed: <key> must be ...`.
OUT_OF_RANGE = [
    (["trainer.steps=0"], "trainer.steps=0 is not allowed: steps must be a real number > 0"),
    (
        ["trainer.batch_size=-1"],
        "trainer.batch_size=-1 is not allowed: batch_size must be a real number > 0",
    ),
    (
        ["trainer.eval_every=0"],
        "trainer.eval_every=0 is not allowed: eval_every must be a real number > 0",
    ),
    (["trainer.seed=-1"], "trainer.seed=-1 is not allowed: seed must be a real number >= 0"),
    (
        ["trainer.divergence.factor=1"],
        "trainer.divergence.factor=1.0 is not allowed: factor must be a real number > 1",
    ),
    (["task.a=0"], "task.a=0.0 is not allowed: a must be a real number > 0"),
    (
        ["task.condition=0.5"],
        "task.condition=0.5 is not allowed: condition must be a real number >= 1",
    ),
    (
        ["task=linear_regression", "task.val_fraction=1"],
        "task.val_fraction=1.0 is not allowed: val_fraction must be a real number in (0, 1)",
    ),
    (
        ["task=logistic_regression", "task.separation=-1"],
        "task.separation=-1.0 is not allowed: separation must be a real number >= 0",
    ),
    (
        ["task=linear_regression", "task.d=0"],
        "task.d=0 is not allowed: d must be a real number > 0",
    ),
    (
        ["task=digits_mlp", "task.val_fraction=0"],
        "task.val_fraction=0.0 is not allowed: val_fraction must be a real number in (0, 1)",
    ),
    (
        ["task=digits_mlp", "task.hidden=[32,0]"],
        "task.hidden[1]=0.0 is not allowed: hidden must be a real number > 0",
    ),
]


@pytest.mark.parametrize(("overrides", "line"), OUT_OF_RANGE, ids=lambda v: " ".join(v))
def test_a_value_out_of_range_is_one_line_in_one_format(compose, overrides, line):
    with pytest.raises(ConfigError) as error:
        TrialChecker().check(compose(overrides))
    assert str(error.value) == line


@pytest.mark.parametrize("schema", [TrainerConf, DivergenceConf, RayConf, SweepConf, TrackingConf])
def test_every_number_a_config_group_holds_has_a_declared_range(schema):
    numbers = {f.name for f in fields(schema) if {int, float} & {f.type, *typing.get_args(f.type)}}
    assert numbers == set(schema.ranges), f"{schema.__name__}: declare ranges of {numbers}"


@pytest.mark.parametrize(
    ("group", "values", "line"),
    [
        ("ray", {"address": "", "num_cpus": 0}, "ray.num_cpus=0 is not allowed: num_cpus must"),
        ("sweep", {"trials_per_task": -1}, "sweep.trials_per_task=-1 is not allowed: "),
    ],
)
def test_a_session_value_out_of_range_is_one_line_in_the_same_format(group, values, line):
    with pytest.raises(ConfigError, match=f"^{re.escape(line)}.* >= 1$"):
        check_group_ranges(group, values)


def test_a_null_session_value_means_the_default_and_has_no_range_to_be_in():
    check_group_ranges("ray", {"address": "", "num_cpus": None})
    check_group_ranges("sweep", {"trials_per_task": None})
