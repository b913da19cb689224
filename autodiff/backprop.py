"""Gradient bookkeeping every op shares: accumulate, undo broadcasting, own leaf gradients."""

import numpy as np


def unbroadcast(grad, shape):
    """Sum `grad` down to `shape`, undoing numpy broadcasting.

    Broadcasting prepends axes and stretches axes of size 1, so the gradient is summed over
    the leading axes, then over the axes where the input had size 1. Every op that
    broadcasts uses this one helper.
    """
    if grad.shape == shape:
        return grad
    lead = grad.ndim - len(shape)
    if lead:
        grad = np.add.reduce(grad, axis=tuple(range(lead)))
        if grad.shape == shape:  # a bias added to every row: nothing was stretched
            return grad
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    return np.add.reduce(grad, axis=stretched, keepdims=True)


def spread(grad, shape):
    """`np.broadcast_to(grad, shape)`, the read-only view a sum or a mean hands back to its input:
    every element it reduced gets the same gradient.

    A full reduction's one number is spread with zero strides directly: broadcast_to's general
    setup costs more than a small reduction's whole backward.
    """
    if grad.ndim:
        return np.broadcast_to(grad, shape)
    view = np.ndarray(shape, np.float64, np.asarray(grad, np.float64), 0, (0,) * len(shape))
    view.flags.writeable = False
    return view


def accumulate(t, grad):
    """Add `grad` into `t.grad` (fan-out: every use of a tensor contributes).

    Out of place, because `grad` may be the very array another node holds, or a read-only
    broadcast view; the first contribution is stored without a copy.
    """
    t.grad = grad if t.grad is None else t.grad + grad


def general_matmul_backward(a, b, g):
    """Local gradients of a @ b for 1-D operands and stacked (broadcast) matrices."""
    x, y = a.data, b.data
    # numpy promotes a 1-D left operand to a row and a 1-D right operand to a column and
    # then drops that axis from the result; redo the promotion to get matrix gradients.
    x2 = x[None, :] if x.ndim == 1 else x
    y2 = y[:, None] if y.ndim == 1 else y
    g2 = g[..., None] if y.ndim == 1 else g  # the column axis first: it was the last one
    if x.ndim == 1:
        g2 = g2[..., None, :]
    if a.requires_grad:
        accumulate(a, unbroadcast(g2 @ np.swapaxes(y2, -1, -2), x2.shape).reshape(x.shape))
    if b.requires_grad:
        accumulate(b, unbroadcast(np.swapaxes(x2, -1, -2) @ g2, y2.shape).reshape(y.shape))


def own_leaf_grads(inner, leaves):
    """Give every leaf a gradient array of its own that the caller may modify in place.

    Pass-through ops (+, reshape, sum's broadcast view, ...) hand the same array or a view
    of it to several nodes; copy only those leaf gradients that are shared or not writable.
    """
    held = {id(node.grad) for node in inner}
    for leaf in leaves:
        g = leaf.grad
        if g is None:
            continue
        shared = g.base is not None or id(g) in held
        if type(g) is not np.ndarray or shared or not g.flags.writeable:
            leaf.grad = g = np.array(g, dtype=np.float64)
        held.add(id(g))
