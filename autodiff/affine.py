"""The affine map x @ W + b as one node: a layer's forward and its three local gradients."""

from __future__ import annotations

from autodiff.backprop import accumulate, unbroadcast
from autodiff.tensor import lift, result


def affine(x, W, b):
    """`x @ W + b` for a batch of rows x (N, in), weights W (in, out) and a bias b (out,) or ().

    One node instead of a matmul node and an add node, with the same values and gradients bit
    for bit (the bias is added into the product in place). Other shapes get the two ops.
    """
    x, W, b = lift(x), lift(W), lift(b)
    xs, ws, bs = x.data, W.data, b.data
    if xs.ndim != 2 or ws.ndim != 2 or bs.shape not in ((), ws.shape[1:]):
        return x @ W + b
    out = xs @ ws
    out += bs

    def backward(g):
        if x.requires_grad:  # dx = g W^T
            accumulate(x, g @ ws.T)
        if W.requires_grad:  # dW = x^T g
            accumulate(W, xs.T @ g)
        if b.requires_grad:  # db = g summed over the rows b was added to
            accumulate(b, unbroadcast(g, bs.shape))

    return result(out, (x, W, b), backward, "affine")
