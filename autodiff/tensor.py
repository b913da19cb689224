"""Tensor: a float64 numpy array that records the ops applied to it and runs them backwards."""

from __future__ import annotations

import itertools
from contextlib import contextmanager
from operator import attrgetter

import numpy as np

from autodiff.backprop import accumulate, general_matmul_backward, own_leaf_grads, unbroadcast

_ndarray = np.ndarray
_float64 = np.dtype(np.float64)
_new = object.__new__
# Creation order is a topological order (an op's inputs exist before its output), so
# backward collects the graph with a plain stack walk and sorts it by this counter: no
# recursion, no post-order bookkeeping.
_ids = itertools.count()
_by_creation = attrgetter("_id")
_grad_enabled = True


@contextmanager
def no_grad():
    """Within the block, ops build no graph: results have requires_grad=False and no parents.
    The switch is process-wide (not per thread), which suits one training loop per process."""
    global _grad_enabled
    previous = _grad_enabled
    _grad_enabled = False
    try:
        yield
    finally:
        _grad_enabled = previous


def is_grad_enabled() -> bool:
    """True unless inside `no_grad()`."""
    return _grad_enabled


def lift(x):
    """`x` itself if it is a Tensor, else a constant Tensor wrapping it."""
    return x if isinstance(x, Tensor) else Tensor(x)


def result(data, parents, backward, op):
    """The output Tensor of an op: `data`, plus `parents` and the local-gradient closure
    `backward(grad)` when some parent requires a gradient and grad mode is on."""
    out = _new(Tensor)
    # ufuncs turn 0-d arrays into numpy scalars; keep .data an ndarray throughout.
    out.data = data if type(data) is _ndarray else np.asarray(data, dtype=_float64)
    out.grad = None
    out.name = None
    out._op = op
    out._id = next(_ids)
    if _grad_enabled:
        for p in parents:
            if p.requires_grad:
                out.requires_grad = True
                out._prev = parents
                out._backward = backward
                return out
    out.requires_grad = False
    out._prev = ()
    out._backward = None
    return out


class Tensor:
    """A float64 numpy array with reverse-mode autodiff.

    `Tensor(data, requires_grad=False, name=None)`: lists, scalars and other dtypes are
    converted to float64; a float64 ndarray is wrapped without a copy (the Tensor shares its
    memory). `.grad` is None until `backward()` reaches the tensor, then the gradient, of
    `.data`'s shape; a leaf's is an ndarray of its own, which accumulates across `backward()`
    calls until reset to None. Intermediate gradients are kept too (see `to_dot`).
    Tensor methods (`exp`, `sum`, `reshape`, indexing, ...) are the functions of
    `autodiff.ops`, bound there.
    """

    __slots__ = ("data", "grad", "requires_grad", "name", "_prev", "_backward", "_op", "_id")
    # numpy hands `array + tensor`, `array @ tensor`, ... to the Tensor's reflected operators
    # instead of trying to treat the Tensor as an array element.
    __array_ufunc__ = None

    def __init__(self, data, requires_grad=False, name=None):
        if type(data) is not _ndarray or data.dtype is not _float64:
            data = np.asarray(data.data if isinstance(data, Tensor) else data, dtype=_float64)
        self.data = data
        self.grad = None
        self.requires_grad = bool(requires_grad)
        self.name = name
        self._prev = ()
        self._backward = None
        self._op = ""
        self._id = next(_ids)

    # ---- inspection -------------------------------------------------------------------
    @property
    def shape(self):
        return self.data.shape

    @property
    def ndim(self):
        return self.data.ndim

    @property
    def size(self):
        return self.data.size

    @property
    def T(self):
        return self.transpose()

    def __len__(self):
        return len(self.data)

    def __repr__(self):
        grad = ", requires_grad=True" if self.requires_grad else ""
        return f"Tensor({np.array2string(self.data, precision=4, threshold=20)}{grad})"

    def item(self):
        """The value of a one-element tensor as a Python float."""
        return self.data.item()

    def numpy(self):
        """The underlying float64 array (shared, not copied)."""
        return self.data

    def detach(self):
        """A Tensor sharing this one's data, cut off from the graph."""
        return Tensor(self.data)

    # ---- backward -----------------------------------------------------------------------
    def backward(self, grad=None):
        """Accumulate d(self)/d(leaf) into `.grad` of every leaf that requires a gradient.

        A one-element output is seeded with 1; any other output needs `grad`, an array of
        its shape (the gradient of some scalar with respect to this tensor).
        """
        if not self.requires_grad:
            raise RuntimeError("backward() on a tensor that does not require grad (no graph)")
        if grad is None:
            if self.data.size != 1:
                raise ValueError(
                    f"backward() on a tensor of shape {self.data.shape} needs grad=...: "
                    "only a one-element output has an implied gradient of 1"
                )
            seed = np.array(1.0).reshape(self.data.shape)
        else:
            # A copy, so the caller's array never becomes (and is never aliased by) a .grad.
            seed = np.array(grad.data if isinstance(grad, Tensor) else grad, dtype=_float64)
            if seed.shape != self.data.shape:
                raise ValueError(f"grad has shape {seed.shape}, expected {self.data.shape}")
        inner, leaves = self._graph()
        for node in inner:  # intermediate gradients restart; only leaves accumulate
            node.grad = None
        accumulate(self, seed)
        for node in reversed(inner):
            if node.grad is not None:
                node._backward(node.grad)
        own_leaf_grads(inner, leaves)

    def _graph(self):
        """The part of the graph behind self that requires grad: (inner nodes in creation
        order, which is a topological order; leaves in any order)."""
        seen = {self}
        stack = [self]
        inner, leaves = [], []
        while stack:
            node = stack.pop()
            if not node._prev:
                leaves.append(node)
                continue
            inner.append(node)
            for parent in node._prev:
                if parent.requires_grad and parent not in seen:
                    seen.add(parent)
                    stack.append(parent)
        inner.sort(key=_by_creation)
        return inner, leaves

    # ---- arithmetic: the base ops ---------------------------------------------------------
    def __add__(self, other):
        a, b = self, lift(other)

        def backward(g):
            if a.requires_grad:
                accumulate(a, unbroadcast(g, a.data.shape))
            if b.requires_grad:
                accumulate(b, unbroadcast(g, b.data.shape))

        return result(a.data + b.data, (a, b), backward, "+")

    __radd__ = __add__

    def __sub__(self, other):
        a, b = self, lift(other)

        def backward(g):
            if a.requires_grad:
                accumulate(a, unbroadcast(g, a.data.shape))
            if b.requires_grad:
                accumulate(b, unbroadcast(-g, b.data.shape))

        return result(a.data - b.data, (a, b), backward, "-")

    def __rsub__(self, other):
        return Tensor(other) - self

    def __mul__(self, other):
        a, b = self, lift(other)
        x, y = a.data, b.data

        def backward(g):
            if a.requires_grad:
                accumulate(a, unbroadcast(g * y, x.shape))
            if b.requires_grad:
                accumulate(b, unbroadcast(g * x, y.shape))

        return result(x * y, (a, b), backward, "*")

    __rmul__ = __mul__

    def __truediv__(self, other):
        a, b = self, lift(other)
        x, y = a.data, b.data
        q = x / y

        def backward(g):
            if a.requires_grad:
                accumulate(a, unbroadcast(g / y, x.shape))
            if b.requires_grad:  # d(x/y)/dy = -x/y**2 = -q/y
                accumulate(b, unbroadcast(-g * q / y, y.shape))

        return result(q, (a, b), backward, "/")

    def __rtruediv__(self, other):
        return Tensor(other) / self

    def __pow__(self, other):
        a, b = self, lift(other)
        x, p = a.data, b.data
        y = x**p

        def backward(g):
            if a.requires_grad:
                accumulate(a, unbroadcast(g * p * x ** (p - 1), x.shape))
            if b.requires_grad:  # d(x**p)/dp = x**p * log(x), defined for x > 0
                accumulate(b, unbroadcast(g * y * np.log(x), p.shape))

        return result(y, (a, b), backward, "**")

    def __rpow__(self, other):
        return Tensor(other) ** self

    def __neg__(self):
        a = self

        def backward(g):
            accumulate(a, -g)

        return result(-a.data, (a,), backward, "neg")

    def __matmul__(self, other):
        a, b = self, lift(other)
        x, y = a.data, b.data

        def backward(g):
            if x.ndim != 2 or y.ndim != 2:
                general_matmul_backward(a, b, g)
                return
            if a.requires_grad:  # dA = g B^T
                accumulate(a, g @ y.T)
            if b.requires_grad:  # dB = A^T g
                accumulate(b, x.T @ g)

        return result(x @ y, (a, b), backward, "@")

    def __rmatmul__(self, other):
        return Tensor(other) @ self

    # Comparisons give plain boolean arrays (no gradient), e.g. for `where(x > 0, x, 0)`.
    # __eq__ is left alone so Tensors stay hashable by identity.
    def __lt__(self, other):
        return self.data < _value(other)

    def __le__(self, other):
        return self.data <= _value(other)

    def __gt__(self, other):
        return self.data > _value(other)

    def __ge__(self, other):
        return self.data >= _value(other)


def _value(x):
    return x.data if isinstance(x, Tensor) else x
