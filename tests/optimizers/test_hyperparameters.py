"""Hyperparameters: the lecture's defaults, and one-line errors for values out of range."""

from __future__ import annotations

import inspect
import math
from fractions import Fraction
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from optimizers import (
    BETWEEN_ZERO_AND_ONE,
    FROM_ZERO_TO_ONE,
    POSITIVE,
    SGD,
    AdaGrad,
    Adam,
    Interval,
    Momentum,
    Nesterov,
    Optimizer,
    RMSProp,
)

ALL = [SGD, Momentum, Nesterov, AdaGrad, RMSProp, Adam]

DEFAULTS = {
    SGD: dict(lr=inspect.Parameter.empty),
    Momentum: dict(lr=inspect.Parameter.empty, momentum=0.9),
    Nesterov: dict(lr=inspect.Parameter.empty, momentum=0.9),
    AdaGrad: dict(lr=inspect.Parameter.empty, delta=1e-7),
    RMSProp: dict(lr=inspect.Parameter.empty, rho=0.9, delta=1e-6),
    Adam: dict(lr=0.001, rho1=0.9, rho2=0.999, delta=1e-8),
}


@pytest.mark.parametrize("optimizer", ALL)
def test_signature_and_defaults_are_the_lectures(optimizer):
    parameters = inspect.signature(optimizer).parameters
    assert list(parameters)[0] == "params"
    assert {name: p.default for name, p in parameters.items() if name != "params"} == (
        DEFAULTS[optimizer]
    )
    assert list(optimizer.ranges) == list(DEFAULTS[optimizer])  # every one is checked


@pytest.mark.parametrize("optimizer", ALL)
def test_an_empty_parameter_list_validates_and_keeps_the_values(optimizer):
    given_values = {name: 0.5 for name in optimizer.ranges}
    assert optimizer(params=[], **given_values).hyperparameters == given_values


# (optimizer, hyperparameter, bad value, how the message shows it, the allowed range)
REJECTED = [
    (SGD, "lr", -0.1, "lr=-0.1", "> 0"),
    (SGD, "lr", 0, "lr=0", "> 0"),
    (SGD, "lr", 0.0, "lr=0.0", "> 0"),
    (SGD, "lr", math.nan, "lr=nan", "> 0"),
    (SGD, "lr", math.inf, "lr=inf", "> 0"),
    (SGD, "lr", 10**400, f"lr={10**400!r}", "> 0"),
    (SGD, "lr", "0.1", "lr='0.1'", "> 0"),
    (SGD, "lr", True, "lr=True", "> 0"),
    (SGD, "lr", None, "lr=None", "> 0"),
    (SGD, "lr", [0.1], "lr=[0.1]", "> 0"),
    (SGD, "lr", 1j, "lr=1j", "> 0"),
    (SGD, "lr", np.float64(-2.0), "lr=-2.0", "> 0"),
    (SGD, "lr", np.bool_(True), "lr=True", "> 0"),
    (SGD, "lr", np.array(-1.0), "lr=-1.0", "> 0"),
    (SGD, "lr", np.array([[0.1], [-0.3], [0.0]]), "lr[1, 0]=-0.3", "> 0"),
    (SGD, "lr", np.array([0.1, np.nan]), "lr[1]=nan", "> 0"),
    (SGD, "lr", np.array([True]), "lr=array(dtype=bool)", "> 0"),
    (SGD, "lr", np.array(["a"]), "lr=array(dtype=<U1)", "> 0"),
    (Adam, "lr", 0, "lr=0", "> 0"),
    (Momentum, "momentum", -0.1, "momentum=-0.1", "in [0, 1)"),
    (Momentum, "momentum", 1, "momentum=1", "in [0, 1)"),
    (Momentum, "momentum", 1.5, "momentum=1.5", "in [0, 1)"),
    (Momentum, "momentum", math.nan, "momentum=nan", "in [0, 1)"),
    (Momentum, "momentum", "0.9", "momentum='0.9'", "in [0, 1)"),
    (Nesterov, "momentum", 1.0, "momentum=1.0", "in [0, 1)"),
    (Nesterov, "momentum", False, "momentum=False", "in [0, 1)"),
    (Nesterov, "momentum", np.array([0.5, 1.0]), "momentum[1]=1.0", "in [0, 1)"),
    (RMSProp, "rho", 0, "rho=0", "in (0, 1)"),
    (RMSProp, "rho", 1.0, "rho=1.0", "in (0, 1)"),
    (RMSProp, "rho", -0.9, "rho=-0.9", "in (0, 1)"),
    (RMSProp, "rho", None, "rho=None", "in (0, 1)"),
    (Adam, "rho1", 0.0, "rho1=0.0", "in (0, 1)"),
    (Adam, "rho1", 1, "rho1=1", "in (0, 1)"),
    (Adam, "rho2", 1.0, "rho2=1.0", "in (0, 1)"),
    (Adam, "rho2", math.nan, "rho2=nan", "in (0, 1)"),
    (AdaGrad, "delta", 0, "delta=0", "> 0"),
    (AdaGrad, "delta", -1e-7, "delta=-1e-07", "> 0"),
    (RMSProp, "delta", 0.0, "delta=0.0", "> 0"),
    (Adam, "delta", -1e-8, "delta=-1e-08", "> 0"),
    (Adam, "delta", "1e-8", "delta='1e-8'", "> 0"),
]


@pytest.mark.parametrize(("optimizer", "name", "value", "shown", "allowed"), REJECTED)
def test_a_bad_value_is_rejected_in_one_line(optimizer, name, value, shown, allowed):
    with pytest.raises(ValueError) as error:
        optimizer(params=[], **{"lr": 0.1, name: value})
    message = str(error.value)
    assert message == f"{shown} is not allowed: {name} must be a real number {allowed}"
    assert "\n" not in message


ACCEPTED = [
    (SGD, dict(lr=1e-300)),
    (SGD, dict(lr=1e6)),
    (SGD, dict(lr=1)),
    (SGD, dict(lr=Fraction(1, 4))),
    (SGD, dict(lr=np.float32(0.25))),
    (SGD, dict(lr=np.int64(2))),
    (SGD, dict(lr=np.array(0.5))),
    (Momentum, dict(lr=0.1, momentum=0)),
    (Momentum, dict(lr=0.1, momentum=0.0)),
    (Nesterov, dict(lr=0.1, momentum=0.999999)),
    (RMSProp, dict(lr=0.1, rho=1e-9, delta=1e-300)),
    (Adam, dict(rho1=0.999999, rho2=1e-6)),
]


@pytest.mark.parametrize(("optimizer", "values"), ACCEPTED)
def test_an_edge_value_is_accepted_and_stored_as_a_float(optimizer, values):
    hyperparameters = optimizer(params=[], **values).hyperparameters
    for name, value in values.items():
        assert type(hyperparameters[name]) is float
        assert hyperparameters[name] == float(value)


def test_an_array_is_accepted_as_a_float64_copy():
    lr = np.array([[0.1], [1], [3]], dtype=np.int64)[1:]
    stored = SGD([], lr=lr).lr
    assert stored.dtype == np.float64
    np.testing.assert_array_equal(stored, [[1.0], [3.0]])
    lr[0, 0] = -1
    assert stored[0, 0] == 1.0  # later changes to the caller's array do not leak in


@given(st.floats(min_value=0, exclude_min=True, allow_infinity=False, allow_subnormal=True))
def test_any_positive_finite_lr_is_accepted(lr):
    assert SGD([], lr=lr).lr == lr


@given(st.floats(max_value=0) | st.just(math.nan) | st.just(math.inf))
def test_any_other_lr_is_rejected(lr):
    with pytest.raises(ValueError, match=r"^lr=.* is not allowed: lr must be a real number > 0$"):
        SGD([], lr=lr)


def test_parameters_without_data_are_refused():
    with pytest.raises(TypeError, match="SGD needs parameters with an ndarray .data and a .grad"):
        SGD([np.ones(3)], lr=0.1)


def test_a_subclass_must_declare_a_range_for_each_hyperparameter():
    class Forgetful(Optimizer):
        def __init__(self, params, lr, beta=0.5):
            super().__init__(params, lr=lr, beta=beta)

        def update(self, theta, g, state):
            theta -= self.lr * self.beta * g

    with pytest.raises(TypeError, match=r"Forgetful takes hyperparameters \['lr'\], got"):
        Forgetful([SimpleNamespace(data=np.ones(2), grad=None)], lr=0.1)


@pytest.mark.parametrize(
    ("interval", "text"),
    [
        (POSITIVE, "> 0"),
        (FROM_ZERO_TO_ONE, "in [0, 1)"),
        (BETWEEN_ZERO_AND_ONE, "in (0, 1)"),
        (Interval(-1.0, 2.5, low_closed=True, high_closed=True), "in [-1, 2.5]"),
        (Interval(1.0, low_closed=True), ">= 1"),
    ],
)
def test_an_interval_reads_as_its_range(interval, text):
    assert str(interval) == text


def test_an_interval_never_holds_nan_or_infinities_even_when_closed():
    everything = Interval(-math.inf, math.inf, low_closed=True, high_closed=True)
    values = np.array([-math.inf, -1.0, 0.0, 1e308, math.inf, math.nan])
    np.testing.assert_array_equal(everything.contains(values), [0, 1, 1, 1, 0, 0])
