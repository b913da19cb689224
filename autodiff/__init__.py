"""A numpy reverse-mode autodiff engine: Tensor, differentiable ops, losses, nn, gradcheck."""

from autodiff import nn
from autodiff.affine import affine
from autodiff.backprop import unbroadcast
from autodiff.dot import to_dot
from autodiff.gradcheck import GradcheckResult, gradcheck
from autodiff.losses import cross_entropy, mse
from autodiff.ops import (
    abs,
    concatenate,
    exp,
    getitem,
    log,
    log_softmax,
    max,
    maximum,
    mean,
    relu,
    reshape,
    sigmoid,
    softmax,
    sqrt,
    stack,
    sum,
    tanh,
    transpose,
    where,
)
from autodiff.tensor import Tensor, is_grad_enabled, no_grad

__all__ = [
    "GradcheckResult",
    "Tensor",
    "abs",
    "affine",
    "concatenate",
    "cross_entropy",
    "exp",
    "getitem",
    "gradcheck",
    "is_grad_enabled",
    "log",
    "log_softmax",
    "max",
    "maximum",
    "mean",
    "mse",
    "nn",
    "no_grad",
    "relu",
    "reshape",
    "sigmoid",
    "softmax",
    "sqrt",
    "stack",
    "sum",
    "tanh",
    "to_dot",
    "transpose",
    "unbroadcast",
    "where",
]
