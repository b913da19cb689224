"""Check analytic gradients against central finite differences."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from autodiff.tensor import Tensor, no_grad


@dataclass(frozen=True)
class GradcheckResult:
    """`errors[i]` is the worst error over the elements of input i (see `gradcheck`)."""

    errors: list[float]

    def ok(self, tol: float = 1e-6) -> bool:
        """True when every input's worst error is at most `tol`."""
        return all(e <= tol for e in self.errors)


def gradcheck(fn, *inputs, eps=1e-6, seed=0) -> GradcheckResult:
    """Compare the gradients `backward()` gives for `fn(*inputs)` with finite differences.

    `inputs` are arrays, numbers or Tensors; each is copied into a fresh Tensor that requires
    a gradient, so the caller's tensors are left untouched. A non-scalar output is reduced
    to the scalar sum(output * w) with fixed random weights w, so every output element
    counts. For each input the numeric gradient is (f(x + eps) - f(x - eps)) / (2 eps) per
    element, and the reported error is the largest |analytic - numeric| / max(1, |analytic|,
    |numeric|): relative for large gradients, absolute for small ones, where finite
    differences carry no more than absolute accuracy.
    """
    # Fresh C-ordered copies, so that reshape(-1) below is a view that perturbs the input.
    xs = [Tensor(np.array(_value(x), np.float64, order="C"), requires_grad=True) for x in inputs]
    out = fn(*xs)
    rng = np.random.default_rng(seed)
    weights = np.ones(out.shape) if out.data.size == 1 else rng.standard_normal(out.shape)
    out.backward(weights)

    def objective():
        return float(np.sum(fn(*xs).data * weights))

    errors = []
    with no_grad():
        for x in xs:
            analytic = np.zeros(x.shape) if x.grad is None else x.grad
            numeric = np.empty(x.shape)
            flat = x.data.reshape(-1)
            for j in range(flat.size):
                original = flat[j]
                flat[j] = original + eps
                plus = objective()
                flat[j] = original - eps
                minus = objective()
                flat[j] = original
                numeric.flat[j] = (plus - minus) / (2 * eps)
            scale = np.maximum(1.0, np.maximum(np.abs(analytic), np.abs(numeric)))
            errors.append(float(np.max(np.abs(analytic - numeric) / scale, initial=0.0)))
    return GradcheckResult(errors)


def _value(x):
    return x.data if isinstance(x, Tensor) else x
