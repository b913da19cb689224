"""The affine map x @ W + b as one node: a layer's forward and its three local gradients."""

from __future__ import annotations

import numpy as np

from autodiff.backprop import accumulate, unbroadcast
from autodiff.tensor import lift, result


def affine(x, W, b):
    """`x @ W + b` for a batch of rows x (N, in), weights W (in, out) and a bias b (out,) or ().

    One node instead of a matmul node and an add node, with the same values and gradients bit
    for bit (the bias is added into the product in place). Other shapes get the two ops.
    """
    x, W, b = lift(x), lift(W), lift(b)
    xs, ws, bs = x.data, W.data, b.data
    if ws.ndim == 3 and xs.ndim in (2, 3) and bs.shape == (ws.shape[0], ws.shape[2]):
        return population_affine(x, W, b)
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


def population_affine(x, W, b):
    """`x @ W + b` for a population of P layers: weights W (P, in, out), biases b (P, out), and
    rows x (P, N, in), each member's own, or (N, in), shared by all.

    Member m computes x[m] @ W[m] + b[m] with np.matmul over the leading axis (one matrix
    product per member, as a single layer's), so its values and gradients are the single
    layer's bit for bit; nothing is summed across members.
    """
    xs, ws, bs = x.data, W.data, b.data
    out = np.matmul(xs, ws)
    out += bs[:, None, :]

    def backward(g):
        if x.requires_grad:  # dx = g W^T, member by member (summed over members if x is shared)
            accumulate(x, unbroadcast(np.matmul(g, np.swapaxes(ws, -1, -2)), xs.shape))
        if W.requires_grad:  # dW = x^T g
            accumulate(W, np.matmul(np.swapaxes(xs, -1, -2), g))
        if b.requires_grad:  # db = g summed over each member's rows
            accumulate(b, np.add.reduce(g, axis=1))

    return result(out, (x, W, b), backward, "affine")
