"""Gradient-descent optimizers of the lecture: SGD, momentum, Nesterov, AdaGrad, RMSProp, Adam."""

from optimizers.adagrad import AdaGrad
from optimizers.adam import Adam
from optimizers.hyperparameters import (
    BETWEEN_ZERO_AND_ONE,
    FROM_ZERO_TO_ONE,
    POSITIVE,
    Hyperparameter,
    Interval,
)
from optimizers.momentum import Momentum, Nesterov
from optimizers.optimizer import Optimizer, Parameter, State
from optimizers.rmsprop import RMSProp
from optimizers.sgd import SGD

__all__ = [
    "BETWEEN_ZERO_AND_ONE",
    "FROM_ZERO_TO_ONE",
    "POSITIVE",
    "SGD",
    "AdaGrad",
    "Adam",
    "Hyperparameter",
    "Interval",
    "Momentum",
    "Nesterov",
    "Optimizer",
    "Parameter",
    "RMSProp",
    "State",
]
