"""The MLP's training step (tanh, or ReLU) written directly in numpy, backward derived by hand: what
`bench.py autodiff` times the engine against, and what `bench.py sweep`'s serial loop runs."""

import numpy as np


def forward(params, x, y, relu=False):
    """(mean softmax cross-entropy, softmax - onehot, hidden activations, logits)."""
    w1, b1, w2, b2 = params
    rows = np.arange(x.shape[0])
    a = x @ w1 + b1
    h = np.maximum(a, 0.0) if relu else np.tanh(a)
    z = h @ w2 + b2
    shifted = z - z.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    total = e.sum(axis=1, keepdims=True)
    loss = np.mean(np.log(total[:, 0]) - shifted[rows, y])
    dz = e / total  # d loss / d z = (softmax - onehot) / N, divided below
    dz[rows, y] -= 1.0
    return loss, dz, h, z


def hand_step(params, velocities, x, y, lr, momentum, relu=False):
    """One step: forward, backward by hand, then Momentum (v <- alpha v - eta g,
    theta <- theta + v) written out too. Returns the loss before the step."""
    w1, b1, w2, b2 = params
    loss, dz, h, _ = forward(params, x, y, relu)
    dz /= x.shape[0]
    dh = (dz @ w2.T) * ((h > 0.0) if relu else (1.0 - h * h))  # relu' = [a > 0], tanh' = 1 - h^2
    grads = (x.T @ dh, dh.sum(axis=0), h.T @ dz, dz.sum(axis=0))
    for p, v, g in zip(params, velocities, grads, strict=True):
        v *= momentum  # v <- alpha v - eta g
        v -= lr * g
        p += v  # theta <- theta + v
    return loss


def evaluate(params, x, y, relu=False) -> dict[str, float]:
    """Validation loss and accuracy, as the digits task reports them."""
    loss, _, _, z = forward(params, x, y, relu)
    return {"val_loss": float(loss), "val_accuracy": float(np.mean(np.argmax(z, axis=1) == y))}
