"""gradcheck itself: it must catch wrong gradients and leave its inputs alone."""

import numpy as np

import autodiff
from autodiff import GradcheckResult, Tensor, gradcheck
from autodiff.backprop import accumulate
from autodiff.tensor import lift, result


def wrong_sin(x):
    """sin with a deliberately wrong local gradient (sin instead of cos)."""
    x = lift(x)

    def backward(g):
        accumulate(x, g * np.sin(x.data))

    return result(np.sin(x.data), (x,), backward, "sin")


def test_a_wrong_gradient_is_reported():
    res = gradcheck(wrong_sin, np.array([0.3, 1.0, 2.0]))
    assert isinstance(res, GradcheckResult)
    assert res.errors[0] > 0.1
    assert not res.ok(1e-6)


def test_a_right_gradient_passes_and_errors_are_per_input():
    res = gradcheck(lambda a, b: a * autodiff.exp(b), np.ones(3), np.zeros(3))
    assert len(res.errors) == 2
    assert res.ok(1e-8)
    assert max(res.errors) < 1e-8


def test_an_unused_input_has_zero_error():
    res = gradcheck(lambda a, b: a * 2, np.ones(2), np.ones(2))
    assert res.errors[1] == 0.0


def test_non_scalar_outputs_check_every_element():
    # wrong only in the second output element: a projection onto a scalar still sees it
    def half_wrong(x):
        return autodiff.concatenate([x[:1] * 2, wrong_sin(x[1:])])

    assert not gradcheck(half_wrong, np.array([0.5, 0.7])).ok()


def test_inputs_are_left_untouched():
    x = Tensor([1.0, 2.0], requires_grad=True)
    before = x.data.copy()
    gradcheck(lambda t: (t * t).sum(), x)
    assert x.grad is None
    np.testing.assert_array_equal(x.data, before)


def test_transposed_inputs_are_perturbed_correctly():
    a = np.arange(6.0).reshape(2, 3)
    assert gradcheck(lambda x, y: x @ y, a, a.T).ok()  # a.T is Fortran-ordered
