"""Shape-changing ops, selection, softmax stability and the losses, against plain numpy."""

import numpy as np
import pytest

import autodiff
from autodiff import Tensor, gradcheck


def rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


MATMUL_SHAPES = [
    ((3,), (3,)),
    ((3,), (3, 4)),
    ((2, 3), (3,)),
    ((2, 3), (3, 4)),
    ((5, 2, 3), (3, 4)),
    ((2, 3), (5, 3, 4)),
    ((5, 2, 3), (5, 3, 4)),
    ((2, 1, 2, 3), (4, 3, 2)),
    ((3,), (5, 3, 4)),
    ((5, 2, 3), (3,)),
]


@pytest.mark.parametrize(("left", "right"), MATMUL_SHAPES, ids=str)
def test_matmul_follows_numpy_including_1d_and_batches(left, right):
    a, b = rand(*left), rand(*right, seed=1)
    out = Tensor(a) @ Tensor(b)
    np.testing.assert_allclose(out.data, a @ b)
    assert gradcheck(lambda x, y: x @ y, a, b).ok()


def test_indexing_with_repeated_integers_scatter_adds():
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    x[np.array([0, 0, 2, 0])].sum().backward()
    np.testing.assert_allclose(x.grad, [3.0, 0.0, 1.0])


@pytest.mark.parametrize(
    "index",
    [
        (slice(1, None), slice(None, None, 2)),
        1,
        (1, 2),
        (np.array([0, 1, 1]), np.array([2, 2, 0])),
        np.array([2, 0, 2]),
        (Ellipsis, -1),
        rand(3, 4) > 0,
        Tensor([2.0, 0.0]),
    ],
    ids=["slices", "int", "int_pair", "int_arrays", "repeated_rows", "ellipsis", "mask", "tensor"],
)
def test_indexing_gradients(index):
    x = rand(3, 4)
    plain = index.data.astype(int) if isinstance(index, Tensor) else index
    np.testing.assert_allclose(Tensor(x)[index].data, x[plain])
    assert gradcheck(lambda t: t[index], x).ok()


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_concatenate_and_stack(axis):
    a, b, c = rand(2, 3), rand(2, 3, seed=1), rand(2, 3, seed=2)
    out = autodiff.concatenate([Tensor(a), b, Tensor(c)], axis=axis)
    np.testing.assert_allclose(out.data, np.concatenate([a, b, c], axis=axis))
    assert gradcheck(lambda x, z: autodiff.concatenate([x, b, z], axis=axis), a, c).ok()
    out = autodiff.stack([Tensor(a), b, Tensor(c)], axis=axis)
    np.testing.assert_allclose(out.data, np.stack([a, b, c], axis=axis))
    assert gradcheck(lambda x, z: autodiff.stack([x, b, z], axis=axis), a, c).ok()


def test_concatenate_of_unequal_parts_routes_each_slice_back():
    a = Tensor(np.ones((1, 2)), requires_grad=True)
    b = Tensor(np.ones((3, 2)), requires_grad=True)
    weights = np.arange(8.0).reshape(4, 2)
    (autodiff.concatenate([a, b]) * weights).sum().backward()
    np.testing.assert_allclose(a.grad, weights[:1])
    np.testing.assert_allclose(b.grad, weights[1:])


def test_where_and_maximum_route_gradients():
    a = Tensor([1.0, 5.0, 3.0], requires_grad=True)
    b = Tensor([4.0, 2.0, 3.0], requires_grad=True)
    out = autodiff.maximum(a, b)
    np.testing.assert_allclose(out.data, [4.0, 5.0, 3.0])
    out.backward(np.array([10.0, 20.0, 30.0]))
    np.testing.assert_allclose(a.grad, [0.0, 20.0, 30.0])  # the tie goes to a
    np.testing.assert_allclose(b.grad, [10.0, 0.0, 0.0])
    x = Tensor([-1.0, 2.0], requires_grad=True)
    y = autodiff.where(x > 0, x, 0.0) + autodiff.maximum(x, 0.5)
    y.sum().backward()
    np.testing.assert_allclose(x.grad, [0.0, 2.0])


def test_softmax_and_log_softmax_are_stable_for_large_logits():
    x = Tensor([[1000.0, 1000.0, 0.0], [-1000.0, 0.0, 1000.0]], requires_grad=True)
    with np.errstate(
        over="raise", invalid="raise", divide="raise"
    ):  # any overflow or nan would raise here
        p = autodiff.softmax(x)
        lp = autodiff.log_softmax(x)
        (p * np.arange(3.0)).sum().backward()
        lp.sum().backward()
    half = np.log(0.5)
    np.testing.assert_allclose(p.data, [[0.5, 0.5, 0.0], [0.0, 0.0, 1.0]])
    np.testing.assert_allclose(lp.data, [[half, half, half - 1000], [-2000.0, -1000.0, 0.0]])
    assert np.all(np.isfinite(x.grad))


def test_softmax_axis_and_sum_to_one():
    x = rand(3, 4)
    np.testing.assert_allclose(autodiff.softmax(x, axis=0).data.sum(axis=0), np.ones(4))
    np.testing.assert_allclose(Tensor(x).softmax().data.sum(axis=-1), np.ones(3))
    np.testing.assert_allclose(np.exp(autodiff.log_softmax(x, axis=0).data).sum(axis=0), 1.0)


def test_cross_entropy_matches_direct_numpy():
    logits = rand(5, 4) * 3
    labels = np.array([0, 3, 3, 1, 2])
    z = Tensor(logits, requires_grad=True)
    loss = autodiff.cross_entropy(z, labels)
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    assert loss.item() == pytest.approx(-np.mean(np.log(probs[np.arange(5), labels])))
    loss.backward()
    onehot = np.eye(4)[labels]
    np.testing.assert_allclose(z.grad, (probs - onehot) / 5)


def test_cross_entropy_is_stable_and_checks_label_shape():
    z = Tensor([[1000.0, 0.0], [0.0, 1000.0]], requires_grad=True)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        loss = autodiff.cross_entropy(z, np.array([1, 1]))
        loss.backward()
    assert loss.item() == pytest.approx(500.0)
    with pytest.raises(ValueError, match="labels have shape"):
        autodiff.cross_entropy(z, np.array([[1, 1]]))


def test_mse_value():
    pred, target = rand(4, 2), rand(4, 2, seed=1)
    assert autodiff.mse(pred, target).item() == pytest.approx(np.mean((pred - target) ** 2))
    p = Tensor(pred, requires_grad=True)
    autodiff.mse(p, target).backward()
    np.testing.assert_allclose(p.grad, 2 * (pred - target) / pred.size)


def test_reshape_and_transpose_forms():
    x = Tensor(np.arange(24.0).reshape(2, 3, 4))
    assert x.reshape(4, 6).shape == x.reshape((4, 6)).shape == autodiff.reshape(x, (4, 6)).shape
    assert x.T.shape == (4, 3, 2)
    assert x.transpose(1, 0, 2).shape == autodiff.transpose(x, (1, 0, 2)).shape == (3, 2, 4)
    assert gradcheck(lambda t: t.transpose(2, 0, 1) * np.arange(24.0).reshape(4, 2, 3), x).ok()
