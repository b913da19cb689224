"""step, closures, Nesterov's interim point, skipped parameters, zero_grad and state."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from optimizers import SGD, AdaGrad, Adam, Momentum, Nesterov, RMSProp

ALL = [SGD, Momentum, Nesterov, AdaGrad, RMSProp, Adam]
STATE_NAMES = {
    SGD: set(),
    Momentum: {"v"},
    Nesterov: {"v"},
    AdaGrad: {"r"},
    RMSProp: {"r"},
    Adam: {"t", "s", "r"},
}


def quadratic_param(values=(1.0, -2.0, 3.0)):
    return SimpleNamespace(data=np.array(values), grad=None)


def gradient_closure(param, seen=None):
    """Closure for f = 0.5 ||theta||^2; records the points where it was evaluated."""

    def closure():
        param.grad = None
        if seen is not None:
            seen.append(param.data.copy())
        param.grad = param.data.copy()
        return 0.5 * float(param.data @ param.data)

    return closure


@pytest.mark.parametrize("optimizer", ALL)
def test_step_returns_the_closures_loss(optimizer):
    param = quadratic_param()
    assert optimizer([param], lr=0.1).step(gradient_closure(param)) == 7.0


@pytest.mark.parametrize("optimizer", [SGD, Momentum, AdaGrad, RMSProp, Adam])
def test_the_closure_runs_before_the_update(optimizer):
    param, seen = quadratic_param(), []
    start = param.data.copy()
    optimizer([param], lr=0.1).step(gradient_closure(param, seen))
    np.testing.assert_array_equal(seen, [start])
    assert not np.array_equal(param.data, start)


@pytest.mark.parametrize("optimizer", [SGD, Momentum, AdaGrad, RMSProp, Adam])
def test_step_without_closure_returns_none_and_uses_the_grads_given(optimizer):
    param = quadratic_param()
    param.grad = np.ones(3)
    assert optimizer([param], lr=0.1).step() is None
    assert np.all(param.data < [1.0, -2.0, 3.0])


def test_nesterov_without_closure_says_it_needs_one():
    param = quadratic_param()
    param.grad = np.ones(3)
    with pytest.raises(TypeError, match=r"Nesterov.step\(\) needs a closure"):
        Nesterov([param], lr=0.1).step()
    np.testing.assert_array_equal(param.data, [1.0, -2.0, 3.0])


def test_nesterov_evaluates_the_gradient_at_the_interim_point_and_restores_theta_exactly():
    param, seen = quadratic_param(), []
    other = quadratic_param([7.0])  # never has a gradient: never moves
    optimizer = Nesterov([param, other], lr=0.1, momentum=0.9)
    closure = gradient_closure(param, seen)
    optimizer.step(closure)
    theta, v = param.data.copy(), optimizer.state[0]["v"].copy()

    optimizer.step(closure)

    np.testing.assert_array_equal(seen[1], theta + 0.9 * v)  # theta~ = theta + alpha v
    g = seen[1]
    np.testing.assert_array_equal(optimizer.state[0]["v"], 0.9 * v - 0.1 * g)
    np.testing.assert_array_equal(param.data, theta + (0.9 * v - 0.1 * g))
    np.testing.assert_array_equal(other.data, [7.0])


def test_nesterov_puts_theta_back_from_a_copy_not_by_subtracting():
    param, seen = quadratic_param([1e-20, 0.1, 3.0]), []
    optimizer = Nesterov([param], lr=0.1, momentum=0.5)
    optimizer.state[0]["v"] = np.array([2.0, 0.7, -1.1])

    def closure():  # a step on which this parameter gets no gradient: it must not move at all
        seen.append(param.data.copy())
        param.grad = None
        return 0.0

    optimizer.step(closure)
    np.testing.assert_array_equal(seen, [[1e-20 + 1.0, 0.1 + 0.35, 3.0 - 0.55]])
    # (1e-20 + 1.0) - 1.0 would be 0.0
    np.testing.assert_array_equal(param.data, [1e-20, 0.1, 3.0])


def test_nesterov_restores_theta_when_the_closure_fails():
    param = quadratic_param()
    optimizer = Nesterov([param], lr=0.1)
    optimizer.step(gradient_closure(param))
    theta, v = param.data.copy(), optimizer.state[0]["v"].copy()

    def failing():
        raise FloatingPointError("loss is nan")

    with pytest.raises(FloatingPointError):
        optimizer.step(failing)
    np.testing.assert_array_equal(param.data, theta)
    np.testing.assert_array_equal(optimizer.state[0]["v"], v)


@pytest.mark.parametrize("optimizer", ALL)
def test_parameters_are_updated_in_place(optimizer):
    param = quadratic_param()
    data = param.data
    optimizer([param], lr=0.1).step(gradient_closure(param))
    assert param.data is data
    assert not np.array_equal(data, [1.0, -2.0, 3.0])


@pytest.mark.parametrize("optimizer", ALL)
def test_a_parameter_without_gradient_is_left_alone(optimizer):
    moving, idle = quadratic_param(), quadratic_param([4.0, 5.0])
    opt = optimizer([moving, idle], lr=0.1)
    for _ in range(3):
        opt.step(gradient_closure(moving))
    np.testing.assert_array_equal(idle.data, [4.0, 5.0])
    assert opt.state[1] == {}


@pytest.mark.parametrize("optimizer", ALL)
def test_state_is_created_lazily_then_updated(optimizer):
    param = quadratic_param()
    opt = optimizer([param], lr=0.1)
    assert opt.state == [{}]
    assert list(opt.state_arrays()) == []
    opt.step(gradient_closure(param))
    assert set(opt.state[0]) == STATE_NAMES[optimizer]
    for name, value in opt.state[0].items():
        if name == "t":
            assert value == 1  # Adam's step count, a Python int
        else:
            assert isinstance(value, np.ndarray)
            assert value.shape == param.data.shape
            assert np.any(value != 0)


@pytest.mark.parametrize("optimizer", ALL)
def test_state_arrays_yields_every_state_array(optimizer):
    a, b = quadratic_param(), quadratic_param([1.0, 2.0])
    opt = optimizer([a, b], lr=0.1)

    def closure():
        a.grad, b.grad = a.data.copy(), b.data.copy()
        return 0.0

    opt.step(closure)
    expected = [value for state in opt.state for name, value in state.items() if name != "t"]
    yielded = list(opt.state_arrays())
    assert len(yielded) == 2 * len(STATE_NAMES[optimizer] - {"t"})
    assert all(x is y for x, y in zip(yielded, expected, strict=True))


def test_a_diverging_run_shows_in_the_state_arrays():
    param = quadratic_param()
    optimizer = Momentum([param], lr=1e300, momentum=0.5)
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(3):
            optimizer.step(gradient_closure(param))
    assert not all(np.all(np.isfinite(a)) for a in optimizer.state_arrays())


def test_zero_grad_sets_every_grad_to_none():
    params = [quadratic_param(), quadratic_param([1.0])]
    for p in params:
        p.grad = np.ones_like(p.data)
    SGD(params, lr=0.1).zero_grad()
    assert [p.grad for p in params] == [None, None]


def test_a_gradient_of_the_wrong_shape_is_refused():
    param = quadratic_param()
    param.grad = np.ones(1)
    with pytest.raises(ValueError, match=r"gradient of shape \(1,\) for a parameter of \(3,\)"):
        SGD([param], lr=0.1).step()


def test_params_may_be_any_iterable():
    params = (quadratic_param() for _ in range(2))
    assert len(SGD(params, lr=0.1).params) == 2


def test_repr_shows_the_hyperparameters():
    assert repr(RMSProp([], lr=0.01)) == "RMSProp(lr=0.01, rho=0.9, delta=1e-06)"


@pytest.mark.parametrize("optimizer", ALL)
def test_gradients_are_only_read(optimizer):
    """autodiff may hand over a read-only broadcast view, or an array another node holds."""
    param = quadratic_param()

    def closure():
        param.grad = np.broadcast_to(np.array(0.5), param.data.shape)
        return 0.0

    opt = optimizer([param], lr=0.1)
    for _ in range(2):
        opt.step(closure)
    assert np.all(param.data < [1.0, -2.0, 3.0])
