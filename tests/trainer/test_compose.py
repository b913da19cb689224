"""Every option of every config group composes through Hydra's compose API, typed by its schema."""

import inspect
from pathlib import Path

import numpy as np
import pytest
from omegaconf import OmegaConf

import optimizers
from trainer import contract
from trainer.config.compose import TrialChecker, compose_config, hydra_context
from trainer.config.compose import to_plain as plain_of
from trainer.config.compose import trial_config as trial_of
from trainer.config.errors import ConfigError
from trainer.config.schema import OptimizerConf, TaskConf
from trainer.tasks.digits_mlp import DigitsMLP
from trainer.tasks.linear_regression import LinearRegression
from trainer.tasks.logistic_regression import LogisticRegression
from trainer.tasks.quadratic import Quadratic
from trainer.tasks.rosenbrock import Rosenbrock
from trainer.training.build import build_optimizer, build_task
from trainer.training.loop import train

CONF = Path(__file__).resolve().parents[2] / "conf"

OPTIMIZERS = {
    "sgd": optimizers.SGD,
    "momentum": optimizers.Momentum,
    "nesterov": optimizers.Nesterov,
    "adagrad": optimizers.AdaGrad,
    "rmsprop": optimizers.RMSProp,
    "adam": optimizers.Adam,
}
TASKS = {
    "quadratic": Quadratic,
    "rosenbrock": Rosenbrock,
    "linear_regression": LinearRegression,
    "logistic_regression": LogisticRegression,
    "digits_mlp": DigitsMLP,
}
TRACKING = {"mlflow": True, "none": False}


def compose_node(overrides):
    with hydra_context():
        return compose_config("train", overrides)


@pytest.mark.parametrize(
    ("group", "options"),
    [("optimizer", OPTIMIZERS), ("task", TASKS), ("trainer", ["default"]), ("tracking", TRACKING)],
)
def test_each_group_holds_exactly_the_documented_options(group, options):
    assert sorted(path.stem for path in (CONF / group).glob("*.yaml")) == sorted(options)


def test_the_default_composition_has_every_group_typed():
    cfg = compose_node([])
    assert sorted(cfg) == ["optimizer", "task", "tracking", "trainer"]
    assert (cfg.optimizer.name, cfg.task.name) == ("momentum", "quadratic")
    assert isinstance(cfg.trainer.steps, int) and cfg.trainer.steps > 0
    assert isinstance(cfg.trainer.divergence.factor, float)
    assert not OmegaConf.missing_keys(cfg)


@pytest.mark.parametrize("option", sorted(OPTIMIZERS))
def test_optimizer_option_composes_instantiates_its_class_and_trains(option):
    cfg = compose_node([f"optimizer={option}", "task=quadratic", "trainer.steps=300"])
    node = cfg.optimizer
    assert issubclass(OmegaConf.get_type(node), OptimizerConf)
    assert node.name == option
    assert node._partial_ is True
    hyperparameters = contract.hyperparameters(node)
    assert all(type(value) is float for value in hyperparameters.values()), hyperparameters

    config = trial_of(plain_of(cfg))
    optimizer = build_optimizer(config["optimizer"], [])
    assert type(optimizer) is OPTIMIZERS[option]
    # The yaml sets exactly the hyperparameters the class declares, and they reach it unchanged.
    assert optimizer.hyperparameters == hyperparameters

    result = train(config)
    assert result.outcome == "converged"
    assert result.steps_run == 300
    assert result.train_loss[-1] < result.train_loss[0]


def test_optimizer_lr_is_a_float_even_when_written_as_an_int():
    cfg = compose_node(["optimizer=adam", "optimizer.lr=1"])
    assert type(cfg.optimizer.lr) is float and cfg.optimizer.lr == 1.0


@pytest.mark.parametrize("option", sorted(TASKS))
def test_task_option_composes_and_instantiates_its_class(option):
    cfg = compose_node([f"task={option}"])
    assert issubclass(OmegaConf.get_type(cfg.task), TaskConf)
    assert cfg.task.name == option

    task_cfg = plain_of(cfg)["task"]
    task = build_task(task_cfg, seed=0)
    assert type(task) is TASKS[option]
    assert task.name == option
    # Every key of the yaml is an argument of the class, and every argument but seed is in the yaml.
    arguments = set(inspect.signature(TASKS[option]).parameters) - {"seed"}
    assert set(task_cfg) - {"_target_", "name"} == arguments
    if option in ("quadratic", "rosenbrock"):
        assert task.n_train is None
    else:
        assert isinstance(task.n_train, int) and task.n_train > 0


@pytest.mark.parametrize(
    ("overrides", "key", "expected"),
    [
        (["task=quadratic", "task.a=2", "task.condition=10"], "a", 2.0),
        (["task=quadratic", "task.start=[3,4]"], "start", [3.0, 4.0]),
        (["task=rosenbrock", "task.start=[0,1]"], "start", [0.0, 1.0]),
        (["task=linear_regression", "task.noise=1"], "noise", 1.0),
        (["task=logistic_regression", "task.separation=2"], "separation", 2.0),
        (["task=digits_mlp", "task.hidden=[32,16]"], "hidden", [32, 16]),
    ],
)
def test_task_values_take_the_schema_types(overrides, key, expected):
    value = OmegaConf.to_container(compose_node(overrides).task)[key]
    # repr tells 2 from 2.0 and [3, 4] from [3.0, 4.0]: the schema converted the literals.
    assert repr(value) == repr(expected)


@pytest.mark.parametrize(
    ("overrides", "key"),
    [
        (["task=digits_mlp", "task.hidden=[a]"], "task.hidden"),
        (["task=quadratic", "task.a=steep"], "task.a"),
        (["trainer.steps=1.5"], "trainer.steps"),
        (["optimizer=rmsprop", "optimizer.rho=high"], "optimizer.rho"),
    ],
)
def test_a_value_of_the_wrong_type_is_a_config_error_naming_the_key(overrides, key):
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        compose_node(overrides)


@pytest.mark.parametrize("option", sorted(TRACKING))
def test_tracking_option_composes(option):
    cfg = compose_node([f"tracking={option}"])
    assert cfg.tracking.enabled is TRACKING[option]
    assert cfg.tracking.uri is None
    assert isinstance(cfg.tracking.experiment, str) and cfg.tracking.experiment


def test_tracking_uri_and_experiment_overrides_land():
    cfg = compose_node(["tracking.uri=sqlite:///runs/m.db", "tracking.experiment=mine"])
    assert (cfg.tracking.uri, cfg.tracking.experiment) == ("sqlite:///runs/m.db", "mine")


def test_the_readme_example_overrides_land(compose):
    config = compose(
        ["optimizer=adam", "optimizer.lr=0.01", "task=rosenbrock", "trainer.steps=2000"]
    )
    assert config["optimizer"]["name"] == "adam"
    assert config["optimizer"]["lr"] == 0.01
    assert config["task"]["name"] == "rosenbrock"
    assert config["trainer"]["steps"] == 2000
    optimizer = build_optimizer(config["optimizer"], [])
    assert type(optimizer) is optimizers.Adam and optimizer.lr == 0.01
    assert type(build_task(config["task"], seed=0)) is Rosenbrock


def test_overrides_of_the_trainer_group_land(compose):
    config = compose(
        [
            "trainer.steps=7",
            "trainer.batch_size=8",
            "trainer.eval_every=3",
            "trainer.seed=5",
            "trainer.log_every=2",
            "trainer.divergence.factor=100",
        ]
    )
    assert config["trainer"] == {
        "steps": 7,
        "batch_size": 8,
        "eval_every": 3,
        "seed": 5,
        "log_every": 2,
        "divergence": {"factor": 100.0},
    }


def signsgd_quadratic_losses(lr: float, steps: int) -> np.ndarray:
    """sign-SGD on 0.5 (x^2 + 50 y^2) from (-10, 1): each coordinate walks to 0 at lr a step."""
    k = np.arange(steps)
    x = np.minimum(-10.0 + lr * k, 0.0)
    y = np.maximum(1.0 - lr * k, 0.0)
    return 0.5 * (x * x + 50.0 * y * y)


def test_a_custom_optimizer_plugs_in_through_target(compose):
    overrides = [
        "optimizer=sgd",
        "optimizer._target_=custom_optimizers.SignSGD",
        "optimizer.name=sign_sgd",
        "optimizer.lr=0.25",
        "task=quadratic",
        "trainer.steps=60",
    ]
    config = compose(overrides)
    TrialChecker().check(config)
    optimizer = build_optimizer(config["optimizer"], [])
    assert type(optimizer).__name__ == "SignSGD"
    assert type(optimizer).__module__ == "custom_optimizers"

    result = train(config)
    assert result.outcome == "converged"
    # Quarter steps are exact in binary, so the analytic losses are the exact ones.
    np.testing.assert_array_equal(result.train_loss, signsgd_quadratic_losses(0.25, 60))


def test_a_custom_optimizer_gets_its_own_hyperparameter_with_plus(compose):
    base = [
        "optimizer=sgd",
        "optimizer._target_=custom_optimizers.ClippedSGD",
        "optimizer.name=clipped",
    ]
    config = compose([*base, "+optimizer.clip=0.5"])
    optimizer = build_optimizer(config["optimizer"], [])
    assert optimizer.hyperparameters == {"lr": 0.01, "clip": 0.5}
    with pytest.raises(ConfigError, match=r"^optimizer\.clip=0(\.0)? is not allowed: .*> 0"):
        TrialChecker().check(compose([*base, "+optimizer.clip=0"]))
