"""Loss functions: softmax cross-entropy (one fused op) and mean squared error."""

from __future__ import annotations

import numpy as np

from autodiff.backprop import accumulate
from autodiff.ops import mean
from autodiff.tensor import lift, result


def cross_entropy(logits, labels):
    """Mean over the batch of -log softmax(logits)[i, labels[i]].

    `logits` has shape (N, C); `labels` is an integer array of shape (N,) with values in
    [0, C). One op with a hand-written gradient, (softmax(logits) - onehot(labels)) / N,
    instead of a chain of log_softmax, indexing and mean nodes.
    """
    logits = lift(logits)
    z = logits.data
    labels = np.asarray(labels)
    if z.ndim == 3:
        return population_cross_entropy(logits, labels)
    n = z.shape[0]
    if labels.shape != (n,):
        raise ValueError(f"labels have shape {labels.shape}, expected ({n},) for logits {z.shape}")
    rows = np.arange(n)
    shifted = z - z.max(axis=1, keepdims=True)  # log-sum-exp without overflow
    e = np.exp(shifted)
    total = e.sum(axis=1, keepdims=True)
    # The mean as sum / N: np.mean's own bits, without its few microseconds of wrapping.
    loss = (np.log(total[:, 0]) - shifted[rows, labels]).sum() / n

    def backward(g):
        p = e / total
        p[rows, labels] -= 1.0
        p *= float(g) / n  # g is the 0-d gradient of the loss; a float is cheaper to scale by
        accumulate(logits, p)

    return result(loss, (logits,), backward, "cross_entropy")


def population_cross_entropy(logits, labels):
    """`cross_entropy` of each member of a population: logits (P, N, C), labels (P, N), each
    member's own, or (N,), shared; the loss has shape (P,), member m's the single op's value
    for logits[m] bit for bit (the same reductions, along the member's own axes)."""
    z = logits.data
    members, n, _ = z.shape
    if labels.shape not in ((n,), (members, n)):
        raise ValueError(
            f"labels have shape {labels.shape}, expected ({n},) or ({members}, {n}) "
            f"for logits {z.shape}"
        )
    picks = (np.arange(members)[:, None], np.arange(n), np.broadcast_to(labels, (members, n)))
    shifted = z - z.max(axis=2, keepdims=True)
    e = np.exp(shifted)
    total = e.sum(axis=2, keepdims=True)
    loss = (np.log(total[:, :, 0]) - shifted[picks]).sum(axis=1) / n

    def backward(g):  # member m: (softmax(logits[m]) - onehot(labels[m])) * g[m] / N
        p = e / total
        p[picks] -= 1.0
        p *= (g / n)[:, None, None]
        accumulate(logits, p)

    return result(loss, (logits,), backward, "cross_entropy")


def mse(pred, target, axis=None):
    """Mean of (pred - target) ** 2 over all elements, or along `axis` (-1: each member's rows
    in a population)."""
    diff = lift(pred) - target
    return mean(diff * diff, axis=axis)
