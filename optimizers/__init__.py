"""Gradient-descent optimizers of the lecture: SGD, momentum, Nesterov, AdaGrad, RMSProp, Adam."""

from optimizers.adagrad import AdaGrad
from optimizers.adam import Adam
from optimizers.hyperparameters import Interval
from optimizers.momentum import Momentum, Nesterov
from optimizers.optimizer import Optimizer, Parameter
from optimizers.rmsprop import RMSProp
from optimizers.sgd import SGD

__all__ = [
    "SGD",
    "AdaGrad",
    "Adam",
    "Interval",
    "Momentum",
    "Nesterov",
    "Optimizer",
    "Parameter",
    "RMSProp",
]
