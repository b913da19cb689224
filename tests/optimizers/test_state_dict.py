"""state_dict / load_state_dict: a run stopped and continued is bit-identical to one run."""

from __future__ import annotations

import copy
import pickle
from types import SimpleNamespace

import numpy as np
import pytest

from optimizers import SGD, AdaGrad, Adam, Momentum, Nesterov, RMSProp

OPTIMIZERS = [
    (SGD, dict(lr=0.05)),
    (Momentum, dict(lr=0.02, momentum=0.8)),
    (Nesterov, dict(lr=0.02, momentum=0.8)),
    (AdaGrad, dict(lr=0.3, delta=1e-2)),
    (RMSProp, dict(lr=0.01, rho=0.8)),
    (Adam, dict(lr=0.02, rho1=0.8, rho2=0.95)),
]


@pytest.mark.parametrize(("optimizer_class", "hyperparameters"), OPTIMIZERS)
def test_continuing_from_a_saved_state_is_bit_identical(
    least_squares, optimizer_class, hyperparameters
):
    params = least_squares.params()
    optimizer = optimizer_class(params, **hyperparameters)
    least_squares.train(optimizer, params, range(30))
    saved = pickle.loads(pickle.dumps(optimizer.state_dict()))  # as a checkpoint file would
    copies = [SimpleNamespace(data=p.data.copy(), grad=None) for p in params]

    least_squares.train(optimizer, params, range(30, 50))
    # Defaults on purpose: the hyperparameters come from the saved state.
    resumed = optimizer_class(copies, lr=1.0)
    resumed.load_state_dict(saved)
    least_squares.train(resumed, copies, range(30, 50))

    for p, q in zip(params, copies, strict=True):
        np.testing.assert_array_equal(p.data, q.data)
    assert resumed.hyperparameters == optimizer.hyperparameters
    for a, b in zip(optimizer.state_arrays(), resumed.state_arrays(), strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(("optimizer_class", "hyperparameters"), OPTIMIZERS)
def test_state_dict_is_a_deep_copy(least_squares, optimizer_class, hyperparameters):
    params = least_squares.params()
    optimizer = optimizer_class(params, **hyperparameters)
    least_squares.train(optimizer, params, range(3))
    saved = optimizer.state_dict()
    kept = copy.deepcopy(saved)

    least_squares.train(optimizer, params, range(3, 6))
    other = optimizer_class(least_squares.params(), **hyperparameters)
    other.load_state_dict(saved)
    least_squares.train(other, other.params, range(3))

    assert saved.keys() == kept.keys()
    for before, after in zip(kept["state"], saved["state"], strict=True):
        assert before.keys() == after.keys()
        for name in before:
            np.testing.assert_array_equal(before[name], after[name])


def test_state_dict_format():
    param = SimpleNamespace(data=np.ones(3), grad=np.full(3, 0.5))
    optimizer = Adam([param, SimpleNamespace(data=np.ones(2), grad=None)], lr=0.1)
    optimizer.step()
    saved = optimizer.state_dict()
    assert saved["optimizer"] == "Adam"
    assert saved["hyperparameters"] == dict(lr=0.1, rho1=0.9, rho2=0.999, delta=1e-8)
    first, second = saved["state"]
    assert sorted(first) == ["r", "s", "t"]
    assert first["t"] == 1
    assert second == {}  # no gradient yet, so no state yet


def test_loading_the_state_of_another_optimizer_is_refused():
    saved = Momentum([], lr=0.1).state_dict()
    with pytest.raises(ValueError, match="state of a Momentum cannot be loaded into a Nesterov"):
        Nesterov([], lr=0.1).load_state_dict(saved)


def test_loading_a_state_for_a_different_number_of_parameters_is_refused():
    saved = SGD([SimpleNamespace(data=np.ones(2), grad=None)], lr=0.1).state_dict()
    with pytest.raises(ValueError, match="state of 1 parameters cannot be loaded into a SGD of 0"):
        SGD([], lr=0.1).load_state_dict(saved)


def test_loaded_hyperparameters_are_checked():
    saved = SGD([], lr=0.1).state_dict()
    saved["hyperparameters"]["lr"] = -1.0
    with pytest.raises(ValueError, match="lr=-1.0 is not allowed"):
        SGD([], lr=0.1).load_state_dict(saved)
