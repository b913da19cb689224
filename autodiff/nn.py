"""Neural-network building blocks: Module, Linear and MLP."""

from __future__ import annotations

from itertools import pairwise

import numpy as np

from autodiff.affine import affine
from autodiff.ops import relu, sigmoid, tanh
from autodiff.tensor import Tensor

ACTIVATIONS = {"tanh": tanh, "relu": relu, "sigmoid": sigmoid}


class Module:
    """Base class: `module(x)` calls `forward(x)`; parameters are found in attributes."""

    def forward(self, *args, **kwargs):
        raise NotImplementedError

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    def parameters(self) -> list[Tensor]:
        """Tensors with requires_grad=True held by this module, by its attributes or in
        lists, tuples and dicts among them, recursively through sub-modules; each once,
        in attribute order."""
        found: list[Tensor] = []
        _collect(vars(self), found, set())
        return found

    def zero_grad(self) -> None:
        """Reset every parameter's gradient to None."""
        for p in self.parameters():
            p.grad = None


def _collect(value, found, seen):
    if isinstance(value, Tensor):
        if value.requires_grad and id(value) not in seen:
            seen.add(id(value))
            found.append(value)
    elif isinstance(value, Module):
        _collect(vars(value), found, seen)
    elif isinstance(value, dict):
        for item in value.values():
            _collect(item, found, seen)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _collect(item, found, seen)


class Linear(Module):
    """`x @ W + b` (one `affine` node) with W of shape (in_features, out_features) and b of zeros.

    init="xavier": W ~ U(-a, a), a = sqrt(6 / (in + out)) (Glorot, for tanh and sigmoid);
    init="he": W ~ N(0, 2 / in) (for relu). `rng` is a numpy Generator or an int seed.
    """

    def __init__(self, in_features, out_features, init="xavier", rng=None):
        rng = np.random.default_rng(rng)
        shape = (in_features, out_features)
        if init == "xavier":
            limit = np.sqrt(6.0 / (in_features + out_features))
            weight = rng.uniform(-limit, limit, size=shape)
        elif init == "he":
            weight = rng.normal(0.0, np.sqrt(2.0 / in_features), size=shape)
        else:
            raise ValueError(f"init must be 'xavier' or 'he', not {init!r}")
        self.W = Tensor(weight, requires_grad=True, name="W")
        self.b = Tensor(np.zeros(out_features), requires_grad=True, name="b")

    def forward(self, x):
        return affine(x, self.W, self.b)


class MLP(Module):
    """Linear layers of the given `sizes` with `activation` between them, none after the last.

    `MLP([64, 64, 10], activation="tanh", seed=0)`: Xavier init for tanh and sigmoid, He for
    relu, all layers drawn from one generator seeded with `seed`, so equal seeds give
    identical weights.
    """

    def __init__(self, sizes, activation="tanh", seed=0):
        if len(sizes) < 2:
            raise ValueError(f"sizes needs at least an input and an output size, got {sizes}")
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, not {activation!r}")
        self.activation = activation
        init = "he" if activation == "relu" else "xavier"
        rng = np.random.default_rng(seed)
        self.layers = [Linear(m, n, init=init, rng=rng) for m, n in pairwise(sizes)]

    def forward(self, x):
        act = ACTIVATIONS[self.activation]
        for layer in self.layers[:-1]:
            x = act(layer(x))
        return self.layers[-1](x)
