"""Finite-difference checks of every op's gradient over a fixed set of shapes and random ones."""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import autodiff
from autodiff import gradcheck

SHAPES = [(), (3,), (2, 3), (1, 3), (2, 1)]
PAIRS = list(itertools.product(SHAPES, SHAPES))  # every pair of these broadcasts
TOL = 1e-6


def values(shape, low=-2.0, high=2.0, seed=0):
    return np.random.default_rng(seed).uniform(low, high, size=shape)


def away_from_zero(shape, seed=0):
    """Magnitudes in [0.5, 2] with random signs: clear of the kinks of abs and relu."""
    rng = np.random.default_rng(seed)
    return rng.uniform(0.5, 2.0, size=shape) * rng.choice([-1.0, 1.0], size=shape)


def mask_for(a, b):
    """A fixed boolean mask of the broadcast shape of a and b."""
    return values(np.broadcast_shapes(a.shape, b.shape), seed=2) > 0


def check(fn, *inputs):
    result = gradcheck(fn, *inputs)
    assert len(result.errors) == len(inputs)
    assert result.ok(TOL), result.errors


# name -> (function, input maker); inputs stay inside each function's domain.
UNARY = {
    "neg": (lambda x: -x, values),
    "exp": (autodiff.exp, values),
    "log": (autodiff.log, lambda s: values(s, 0.5, 3.0)),
    "sqrt": (autodiff.sqrt, lambda s: values(s, 0.5, 3.0)),
    "tanh": (autodiff.tanh, values),
    "sigmoid": (autodiff.sigmoid, values),
    "relu": (autodiff.relu, away_from_zero),
    "abs": (autodiff.abs, away_from_zero),
    "square": (lambda x: x**2, values),
    "cube": (lambda x: x**3, values),
    "pow_half": (lambda x: x**0.5, lambda s: values(s, 0.5, 3.0)),
    "scalar_minus_x": (lambda x: 3.0 - x, values),
    "scalar_over_x": (lambda x: 3.0 / x, lambda s: values(s, 0.5, 3.0)),
    "scalar_pow_x": (lambda x: 2.0**x, values),
    "method_exp": (lambda x: x.exp(), values),
    "transpose": (lambda x: x.T, values),
    "flatten": (lambda x: x.reshape(-1), values),
}

BINARY = {
    "add": (lambda a, b: a + b, values, values),
    "sub": (lambda a, b: a - b, values, values),
    "mul": (lambda a, b: a * b, values, values),
    "div": (lambda a, b: a / b, values, lambda s: values(s, 0.5, 2.0, seed=1)),
    "pow": (lambda a, b: a**b, lambda s: values(s, 0.5, 2.0), values),
    "maximum": (autodiff.maximum, values, lambda s: values(s, seed=1)),
    "where": (
        lambda a, b: autodiff.where(
            values(np.broadcast_shapes(a.shape, b.shape), seed=2) > 0, a, b
        ),
        values,
        values,
    ),
    "mse": (autodiff.mse, values, lambda s: values(s, seed=1)),
}


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("name", UNARY)
def test_unary(name, shape):
    fn, make = UNARY[name]
    check(fn, make(shape))


@pytest.mark.parametrize("shapes", PAIRS, ids=str)
@pytest.mark.parametrize("name", BINARY)
def test_binary_with_broadcasting(name, shapes):
    fn, make_a, make_b = BINARY[name]
    check(fn, make_a(shapes[0]), make_b(shapes[1]))


REDUCTIONS = [
    ((), None, False),
    ((3,), None, False),
    ((3,), 0, True),
    ((2, 3), None, True),
    ((2, 3), 0, False),
    ((2, 3), -1, True),
    ((2, 3), (0, 1), False),
    ((1, 3), 0, False),
    ((2, 1), 1, True),
    ((2, 3, 4), (0, 2), False),
    ((2, 3, 4), (-1, 0), True),
]


@pytest.mark.parametrize(("shape", "axis", "keepdims"), REDUCTIONS, ids=str)
@pytest.mark.parametrize("name", ["sum", "mean", "max"])
def test_reductions(name, shape, axis, keepdims):
    fn = getattr(autodiff, name)
    out = fn(autodiff.Tensor(values(shape)), axis=axis, keepdims=keepdims)
    expected = getattr(np, name)(values(shape), axis=axis, keepdims=keepdims)
    np.testing.assert_allclose(out.data, expected)
    check(lambda x: fn(x, axis=axis, keepdims=keepdims), values(shape))


def test_reduction_methods():
    def fn(x):
        return x.sum(axis=1, keepdims=True) * x.mean(axis=0, keepdims=True) + x.max()

    check(fn, values((2, 3)))


def test_max_splits_the_gradient_between_ties():
    x = autodiff.Tensor([1.0, 3.0, 3.0], requires_grad=True)
    x.max().backward()
    np.testing.assert_allclose(x.grad, [0.0, 0.5, 0.5])


@pytest.mark.parametrize("axis", [-1, 0])
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_family(name, axis):
    fn = getattr(autodiff, name)
    check(lambda x: fn(x, axis=axis), values((3, 4)))
    check(lambda x: getattr(x, name)(axis), values((2, 3, 4)))
    check(fn, values((5,)))


def test_cross_entropy_gradient():
    labels = np.array([0, 2, 1, 2])
    check(lambda z: autodiff.cross_entropy(z, labels), values((4, 3)))


# ---- hypothesis: random shapes and values ------------------------------------------------

FEW = settings(max_examples=25, deadline=None)
ELEMENTS = st.floats(-3.0, 3.0)


def arrays_of(shape, elements=ELEMENTS):
    return hnp.arrays(np.float64, shape, elements=elements)


@FEW
@given(data=st.data(), shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3))
def test_random_binary_ops(data, shapes):
    a = data.draw(arrays_of(shapes.input_shapes[0]))
    b = data.draw(arrays_of(shapes.input_shapes[1], st.floats(0.5, 3.0)))
    check(lambda x, y: x * y + x / y - y**2, a, b)


@FEW
@given(
    x=arrays_of(hnp.array_shapes(min_dims=0, max_dims=3, max_side=4), st.floats(0.2, 3.0)),
    sign=st.sampled_from([-1.0, 1.0]),
)
def test_random_unary_chains(x, sign):
    # magnitudes >= 0.2 keep abs and relu clear of their kink at 0
    check(lambda t: autodiff.log(t) + autodiff.sqrt(t) * autodiff.tanh(t), x)
    check(lambda t: autodiff.relu(t) + autodiff.abs(t) * autodiff.sigmoid(t) + t.exp(), sign * x)


@FEW
@given(data=st.data(), x=arrays_of(hnp.array_shapes(min_dims=1, max_dims=3, max_side=4)))
def test_random_reductions(data, x):
    axis = data.draw(st.integers(-x.ndim, x.ndim - 1) | st.none())
    keepdims = data.draw(st.booleans())
    check(lambda t: autodiff.sum(t, axis=axis, keepdims=keepdims), x)
    check(lambda t: autodiff.mean(t, axis=axis, keepdims=keepdims), x)
    # Values at least 0.8 apart keep max away from ties, where it has no derivative.
    ranks = np.argsort(np.argsort(x, axis=None)).reshape(x.shape)
    distinct = ranks + 0.1 * np.tanh(x)
    check(lambda t: autodiff.max(t, axis=axis, keepdims=keepdims), distinct)


@FEW
@given(
    logits=arrays_of(hnp.array_shapes(min_dims=2, max_dims=2, max_side=5), st.floats(-20, 20)),
    data=st.data(),
)
def test_random_log_softmax_and_cross_entropy(logits, data):
    n, classes = logits.shape
    labels = data.draw(hnp.arrays(np.int64, n, elements=st.integers(0, classes - 1)))
    check(autodiff.log_softmax, logits)
    check(lambda z: autodiff.cross_entropy(z, labels), logits)


# ---- the fused affine op: x @ W + b as one node -------------------------------------------

# (x, W, b) shapes: a batch of rows times weights plus a bias of the output's width or a scalar
# (one fused node), and shapes the fused node hands to matmul and add (a bias per row or per
# batch element, 1-D x, stacked x).
AFFINE_SHAPES = [
    ((2, 3), (3, 4), (4,)),
    ((1, 3), (3, 4), (4,)),
    ((2, 1), (1, 3), (3,)),
    ((2, 3), (3, 1), (1,)),
    ((2, 3), (3, 4), ()),
    ((2, 3), (3, 4), (1, 4)),
    ((2, 3), (3, 4), (2, 4)),
    ((2, 3), (3, 1), (2, 1)),
    ((3,), (3, 4), (4,)),
    ((2, 2, 3), (3, 4), (4,)),
]


@pytest.mark.parametrize("shapes", AFFINE_SHAPES, ids=str)
def test_affine(shapes):
    x, w, b = (values(shape, seed=seed) for seed, shape in enumerate(shapes))
    check(autodiff.affine, x, w, b)
    out = autodiff.affine(x, w, b)
    np.testing.assert_array_equal(out.data, x @ w + b)


@pytest.mark.parametrize("shapes", AFFINE_SHAPES, ids=str)
def test_affine_gradients_are_those_of_matmul_plus_add(shapes):
    """Bit for bit: a layer's training is unchanged by fusing its two ops into one."""
    fused, apart = [
        [
            autodiff.Tensor(values(shape, seed=seed), requires_grad=True)
            for seed, shape in enumerate(shapes)
        ]
        for _ in range(2)
    ]
    weights = values(
        np.broadcast_shapes(np.matmul(fused[0].data, fused[1].data).shape, shapes[2]), seed=9
    )
    autodiff.affine(*fused).backward(weights)
    (apart[0] @ apart[1] + apart[2]).backward(weights)
    for f, a in zip(fused, apart, strict=True):
        np.testing.assert_array_equal(f.grad, a.grad)


def test_affine_is_one_node_in_a_linear_layer():
    layer = autodiff.nn.Linear(3, 4, rng=0)
    out = layer(values((2, 3)))
    assert autodiff.dot.op_name(out) == "affine"
    assert out._prev[1:] == (layer.W, layer.b)
