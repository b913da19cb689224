"""Differentiable functions beyond arithmetic: elementwise, reductions, shape ops, softmax."""

from __future__ import annotations

import numpy as np

from autodiff.backprop import accumulate, spread, unbroadcast
from autodiff.tensor import Tensor, lift, result

# ---- elementwise ----------------------------------------------------------------------


def exp(x):
    x = lift(x)
    y = np.exp(x.data)

    def backward(g):
        accumulate(x, g * y)

    return result(y, (x,), backward, "exp")


def log(x):
    x = lift(x)
    data = x.data

    def backward(g):
        accumulate(x, g / data)

    return result(np.log(data), (x,), backward, "log")


def sqrt(x):
    return lift(x) ** 0.5


def tanh(x):
    x = lift(x)
    y = np.tanh(x.data)

    def backward(g):
        # g * (1 - y^2), as tanh' = 1 - tanh^2, built in one array (numpy makes a second one for
        # `1.0 - y * y`): a (256, 256) layer's backward then peaks 512 KiB lower.
        local = np.multiply(y, y, out=np.empty(y.shape))
        np.subtract(1.0, local, out=local)
        local *= g
        accumulate(x, local)

    return result(y, (x,), backward, "tanh")


def sigmoid(x):
    x = lift(x)
    # The tanh form equals 1 / (1 + exp(-x)) but cannot overflow for large |x|.
    y = 0.5 * (1.0 + np.tanh(0.5 * x.data))

    def backward(g):
        accumulate(x, g * y * (1.0 - y))

    return result(y, (x,), backward, "sigmoid")


def relu(x):
    x = lift(x)
    data = x.data

    def backward(g):
        accumulate(x, g * (data > 0))

    return result(np.maximum(data, 0.0), (x,), backward, "relu")


def abs(x):
    x = lift(x)
    data = x.data

    def backward(g):
        accumulate(x, g * np.sign(data))

    return result(np.abs(data), (x,), backward, "abs")


# ---- reductions -------------------------------------------------------------------------


def _restore_axes(g, axis, keepdims):
    """Put back the axes a reduction dropped, so `g` broadcasts against the reduced input."""
    if keepdims or axis is None:  # without axes g is 0-d and broadcasts as it is
        return g
    return np.expand_dims(g, axis)


def sum(x, axis=None, keepdims=False):
    x = lift(x)
    shape = x.data.shape

    def backward(g):
        accumulate(x, spread(_restore_axes(g, axis, keepdims), shape))

    return result(x.data.sum(axis=axis, keepdims=keepdims), (x,), backward, "sum")


def mean(x, axis=None, keepdims=False):
    x = lift(x)
    shape = x.data.shape
    y = x.data.mean(axis=axis, keepdims=keepdims)
    count = x.data.size / (np.size(y) or 1)  # `or 1`: an empty result spreads nothing

    def backward(g):
        accumulate(x, spread(_restore_axes(g / count, axis, keepdims), shape))

    return result(y, (x,), backward, "mean")


def max(x, axis=None, keepdims=False):
    x = lift(x)
    data = x.data
    y = data.max(axis=axis, keepdims=keepdims)

    def backward(g):
        hit = data == _restore_axes(y, axis, keepdims)
        # Tied maxima share the gradient equally (the mean of their subgradients).
        share = _restore_axes(g, axis, keepdims) / hit.sum(axis=axis, keepdims=True)
        accumulate(x, hit * share)

    return result(y, (x,), backward, "max")


# ---- shape ops --------------------------------------------------------------------------


def reshape(x, *shape):
    """`reshape(x, 2, 3)` or `reshape(x, (2, 3))`, as numpy's method accepts both."""
    x = lift(x)
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    old = x.data.shape

    def backward(g):
        accumulate(x, g.reshape(old))

    return result(x.data.reshape(shape), (x,), backward, "reshape")


def transpose(x, *axes):
    """Reverse the axes, or permute them as `axes` says (given spread out or as one tuple)."""
    x = lift(x)
    if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
        axes = tuple(axes[0])
    axes = axes or None
    inverse = None if axes is None else tuple(np.argsort(axes))

    def backward(g):
        accumulate(x, g.transpose(inverse))

    return result(x.data.transpose(axes), (x,), backward, "transpose")


def getitem(x, index):
    """`x[index]` for slices, integers, integer arrays and boolean masks."""
    x = lift(x)
    if isinstance(index, Tensor):
        index = index.data.astype(np.intp)
    shape = x.data.shape

    def backward(g):
        full = np.zeros(shape)
        # add.at, not `full[index] += g`: a repeated integer index must collect every
        # contribution, where buffered `+=` would keep only the last one.
        np.add.at(full, index, g)
        accumulate(x, full)

    return result(x.data[index], (x,), backward, "getitem")


def concatenate(tensors, axis=0):
    tensors = tuple(lift(t) for t in tensors)
    cuts = np.cumsum([t.data.shape[axis] for t in tensors[:-1]])

    def backward(g):
        for t, part in zip(tensors, np.split(g, cuts, axis=axis), strict=True):
            if t.requires_grad:
                accumulate(t, part)

    data = np.concatenate([t.data for t in tensors], axis=axis)
    return result(data, tensors, backward, "concatenate")


def stack(tensors, axis=0):
    tensors = tuple(lift(t) for t in tensors)

    def backward(g):
        for t, part in zip(tensors, np.moveaxis(g, axis, 0), strict=True):
            if t.requires_grad:
                accumulate(t, part)

    return result(np.stack([t.data for t in tensors], axis=axis), tensors, backward, "stack")


# ---- selection --------------------------------------------------------------------------


def where(cond, a, b):
    """Elementwise `a` where `cond` holds, else `b`; `cond` is a boolean array (no gradient)."""
    cond = np.asarray(cond.data if isinstance(cond, Tensor) else cond, dtype=bool)
    a, b = lift(a), lift(b)

    def backward(g):
        if a.requires_grad:
            accumulate(a, unbroadcast(np.where(cond, g, 0.0), a.data.shape))
        if b.requires_grad:
            accumulate(b, unbroadcast(np.where(cond, 0.0, g), b.data.shape))

    return result(np.where(cond, a.data, b.data), (a, b), backward, "where")


def maximum(a, b):
    """Elementwise maximum; at ties the gradient goes to `a`."""
    a, b = lift(a), lift(b)
    return where(a.data >= b.data, a, b)


# ---- softmax ----------------------------------------------------------------------------


def softmax(x, axis=-1):
    x = lift(x)
    e = np.exp(x.data - x.data.max(axis=axis, keepdims=True))
    y = e / e.sum(axis=axis, keepdims=True)

    def backward(g):  # Jacobian-vector product: y * (g - <g, y>)
        accumulate(x, y * (g - (g * y).sum(axis=axis, keepdims=True)))

    return result(y, (x,), backward, "softmax")


def log_softmax(x, axis=-1):
    """log(softmax(x)) computed as (x - max) - log(sum(exp(x - max))): no overflow."""
    x = lift(x)
    shifted = x.data - x.data.max(axis=axis, keepdims=True)
    y = shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))

    def backward(g):
        accumulate(x, g - np.exp(y) * g.sum(axis=axis, keepdims=True))

    return result(y, (x,), backward, "log_softmax")


# Tensor methods are these same functions, so `x.exp()` and `exp(x)` cannot drift apart.
for _fn in (exp, log, sqrt, tanh, sigmoid, relu, abs, sum, mean, max, reshape, transpose):
    setattr(Tensor, _fn.__name__, _fn)
for _fn in (softmax, log_softmax):
    setattr(Tensor, _fn.__name__, _fn)
Tensor.__getitem__ = getitem
Tensor.__abs__ = abs
