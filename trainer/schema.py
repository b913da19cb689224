"""Structured-config schemas that type-check every config group, kept in Hydra's ConfigStore."""

from dataclasses import dataclass, field

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING


@dataclass
class OptimizerConf:
    _target_: str = MISSING
    _partial_: bool = True
    name: str = MISSING
    lr: float = MISSING


@dataclass
class SGDConf(OptimizerConf):
    pass


@dataclass
class MomentumConf(OptimizerConf):
    momentum: float = 0.9


@dataclass
class NesterovConf(OptimizerConf):
    momentum: float = 0.9


@dataclass
class AdaGradConf(OptimizerConf):
    delta: float = 1e-7


@dataclass
class RMSPropConf(OptimizerConf):
    rho: float = 0.9
    delta: float = 1e-6


@dataclass
class AdamConf(OptimizerConf):
    rho1: float = 0.9
    rho2: float = 0.999
    delta: float = 1e-8


@dataclass
class TaskConf:
    _target_: str = MISSING
    name: str = MISSING


@dataclass
class QuadraticConf(TaskConf):
    a: float = 1.0
    condition: float = 50.0
    start: list[float] = field(default_factory=lambda: [-10.0, 1.0])


@dataclass
class RosenbrockConf(TaskConf):
    start: list[float] = field(default_factory=lambda: [-1.5, 2.0])


@dataclass
class LinearRegressionConf(TaskConf):
    n: int = 1000
    d: int = 10
    noise: float = 0.1
    val_fraction: float = 0.2
    data_seed: int = 0


@dataclass
class LogisticRegressionConf(TaskConf):
    n: int = 1000
    d: int = 10
    separation: float = 1.0
    val_fraction: float = 0.2
    data_seed: int = 0


@dataclass
class DigitsMLPConf(TaskConf):
    hidden: list[int] = field(default_factory=lambda: [64])
    activation: str = "tanh"
    val_fraction: float = 0.2
    data_seed: int = 0


@dataclass
class DivergenceConf:
    factor: float = 1e4


@dataclass
class TrainerConf:
    steps: int = 500
    batch_size: int = 64
    eval_every: int = 50
    seed: int = 0
    divergence: DivergenceConf = field(default_factory=DivergenceConf)


@dataclass
class TrackingConf:
    enabled: bool = True
    uri: str | None = None
    experiment: str = "gradsweep"
    retry_seconds: float = 60.0


@dataclass
class RayConf:
    address: str = ""
    num_cpus: int | None = None


@dataclass
class SweepConf:
    name: str = MISSING
    params: dict[str, str] = field(default_factory=dict)
    dry_run: bool = False
    trials_per_task: int | None = None


SCHEMAS = {
    "optimizer": {
        "sgd": SGDConf,
        "momentum": MomentumConf,
        "nesterov": NesterovConf,
        "adagrad": AdaGradConf,
        "rmsprop": RMSPropConf,
        "adam": AdamConf,
    },
    "task": {
        "quadratic": QuadraticConf,
        "rosenbrock": RosenbrockConf,
        "linear_regression": LinearRegressionConf,
        "logistic_regression": LogisticRegressionConf,
        "digits_mlp": DigitsMLPConf,
    },
    "trainer": {"trainer": TrainerConf},
    "tracking": {"tracking": TrackingConf},
    "ray": {"ray": RayConf},
    "sweep": {"sweep": SweepConf},
}


def register_schemas() -> None:
    """Store each schema as `schema/<group>/<option>`, which the group's yaml files extend."""
    store = ConfigStore.instance()
    for group, schemas in SCHEMAS.items():
        for option, node in schemas.items():
            store.store(group=f"schema/{group}", name=option, node=node)
