"""Tensor basics: the lecture example, construction, backward rules, graph handling."""

import numpy as np
import pytest

import autodiff
from autodiff import Tensor


def test_lecture_example_local_and_global_gradients():
    x1 = Tensor(-2.0, requires_grad=True)
    x2 = Tensor(5.0, requires_grad=True)
    x3 = Tensor(-4.0, requires_grad=True)
    z = x1 + x2
    f = z * x3
    f.backward()
    assert f.item() == -12.0
    assert z.item() == 3.0
    assert z.grad == -4.0  # df/dz = x3
    assert (x1.grad, x2.grad, x3.grad) == (-4.0, -4.0, 3.0)  # chain rule; df/dx3 = z


def test_construction_converts_to_float64():
    assert Tensor([1, 2, 3]).data.dtype == np.float64
    assert Tensor(3).shape == ()
    assert Tensor(np.arange(6, dtype=np.int32).reshape(2, 3)).data.dtype == np.float64
    assert Tensor(np.float32(1.5)).data.dtype == np.float64
    t = Tensor([[1.0, 2.0, 3.0]])
    assert (t.shape, t.ndim, t.size, len(t)) == ((1, 3), 2, 3, 1)
    assert t.grad is None and t.requires_grad is False


def test_float64_array_is_wrapped_without_copy():
    a = np.zeros(3)
    t = Tensor(a)
    assert t.data is a and t.numpy() is a


def test_item_detach_and_repr():
    x = Tensor([2.0], requires_grad=True)
    y = x * 3
    d = y.detach()
    assert d.requires_grad is False and d.data is y.data
    assert y.item() == 6.0 and isinstance(y.item(), float)
    assert "requires_grad=True" in repr(y)


def test_scalar_and_array_operands_on_either_side():
    x = Tensor([1.0, 2.0], requires_grad=True)
    a = np.array([3.0, 5.0])
    out = (2 + x) * a - x / 4 + 1 / x - (a - x) + 2**x + x**2 + a * x + np.float64(2) * x
    expected = (2 + x.data) * a - x.data / 4 + 1 / x.data - (a - x.data)
    expected += 2**x.data + x.data**2 + a * x.data + 2 * x.data
    np.testing.assert_allclose(out.data, expected)
    out.backward(np.ones(2))
    xd = x.data
    grad = a - 0.25 - 1 / xd**2 + 1 + np.log(2) * 2**xd + 2 * xd + a + 2
    np.testing.assert_allclose(x.grad, grad)


def test_array_on_the_left_of_matmul_and_add_gives_a_tensor():
    w = Tensor(np.eye(2), requires_grad=True)
    out = np.ones((3, 2)) @ w + np.ones(2)
    assert isinstance(out, Tensor) and out.shape == (3, 2)
    out.sum().backward()
    np.testing.assert_allclose(w.grad, np.full((2, 2), 3.0))


def test_numpy_ufuncs_refuse_tensors_instead_of_silently_dropping_the_graph():
    with pytest.raises(TypeError):
        np.exp(Tensor(1.0))


def test_fan_out_accumulates():
    x = Tensor(3.0, requires_grad=True)
    y = x * x + x  # x used three times
    y.backward()
    assert x.grad == 2 * 3.0 + 1


def test_leaf_gradients_accumulate_across_backward_calls_until_reset():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = (x * x * 3).sum()  # intermediate nodes must not double count on the second call
    y.backward()
    y.backward()
    np.testing.assert_allclose(x.grad, 2 * 6 * x.data)
    x.grad = None
    (x * 2).sum().backward()
    np.testing.assert_allclose(x.grad, [2.0, 2.0])


def test_backward_on_non_scalar_needs_a_gradient():
    x = Tensor(np.ones((2, 3)), requires_grad=True)
    y = x * 2
    with pytest.raises(ValueError, match=r"shape \(2, 3\) needs grad="):
        y.backward()
    with pytest.raises(ValueError, match="expected"):
        y.backward(np.ones(3))
    g = np.arange(6.0).reshape(2, 3)
    y.backward(g)
    np.testing.assert_allclose(x.grad, 2 * g)
    assert not np.shares_memory(x.grad, g)


def test_backward_without_graph_is_an_error():
    with pytest.raises(RuntimeError, match="does not require grad"):
        (Tensor(1.0) * 2).backward()


def test_leaf_gradients_are_independent_writable_arrays():
    a = Tensor([1.0, 2.0], requires_grad=True)
    b = Tensor([3.0, 4.0], requires_grad=True)
    c = Tensor(np.ones((2, 2)), requires_grad=True)
    out = a + b
    total = out.sum() + c.sum()
    total.backward()
    assert a.grad is not b.grad and not np.shares_memory(a.grad, b.grad)
    a.grad *= 10  # e.g. gradient clipping in place
    np.testing.assert_allclose(b.grad, [1.0, 1.0])
    np.testing.assert_allclose(out.grad, [1.0, 1.0])
    c.grad += 1  # the gradient of a sum is a broadcast view internally
    np.testing.assert_allclose(c.grad, np.full((2, 2), 2.0))


def test_no_grad_builds_no_graph_and_restores_the_mode():
    x = Tensor([1.0, 2.0], requires_grad=True)
    with autodiff.no_grad():
        assert not autodiff.is_grad_enabled()
        y = (x * 2).exp().sum()
    assert y.requires_grad is False
    assert "->" not in autodiff.to_dot(y)
    with pytest.raises(ValueError), autodiff.no_grad():
        raise ValueError
    assert autodiff.is_grad_enabled()
    assert (x * 2).requires_grad


def test_constants_get_no_gradient():
    x = Tensor([1.0, 2.0], requires_grad=True)
    c = Tensor([3.0, 4.0])
    (x * c).sum().backward()
    assert c.grad is None
    np.testing.assert_allclose(x.grad, c.data)


def test_chain_of_ten_thousand_ops_needs_no_recursion():
    x = Tensor(1.0, requires_grad=True)
    y = x
    for _ in range(5_000):
        y = y * 1.0001
        y = y + 0.5
    y.backward()
    assert x.grad == pytest.approx(1.0001**5_000)
    del y  # freeing the deep graph must not overflow the stack either


def test_unbroadcast_sums_leading_and_stretched_axes():
    g = np.ones((4, 2, 3))
    assert autodiff.unbroadcast(g, (4, 2, 3)) is g
    np.testing.assert_allclose(autodiff.unbroadcast(g, (3,)), np.full(3, 8.0))
    np.testing.assert_allclose(autodiff.unbroadcast(g, (2, 1)), np.full((2, 1), 12.0))
    np.testing.assert_allclose(autodiff.unbroadcast(g, (1, 1, 3)), np.full((1, 1, 3), 8.0))
    assert float(autodiff.unbroadcast(g, ())) == 24.0


def test_comparisons_give_boolean_masks():
    x = Tensor([-1.0, 0.0, 2.0])
    np.testing.assert_array_equal(x > 0, [False, False, True])
    np.testing.assert_array_equal(x <= Tensor(0.0), [True, True, False])
