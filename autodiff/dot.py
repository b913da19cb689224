"""Graphviz DOT rendering of a graph: each node's op, value and gradient."""

from __future__ import annotations

import numpy as np


def to_dot(output, edge_labels=None) -> str:
    """DOT text of the graph that produced `output`, edges running from inputs to outputs.

    Each node shows its name (if set), its op ("leaf" for inputs), its value (the forward
    pass) and its gradient (d output / d node after `output.backward()`, "None" before), as
    in the lecture's picture of activations flowing forward and gradients flowing back.
    `edge_labels`, if given, maps (parent, child) tensors to a label for that edge, e.g. the
    local gradient d child / d parent. Render with `dot -Tpng`.
    """
    nodes = reachable(output)
    edge_labels = edge_labels or {}
    lines = [
        "digraph autodiff {",
        "  rankdir=LR;",
        '  node [shape=box, fontname="monospace"];',
    ]
    for t in nodes:
        rows = [t.name] if t.name else []
        rows += [f"op: {op_name(t)}", f"value: {_fmt(t.data)}", f"grad: {_fmt(t.grad)}"]
        label = "\\n".join(_escape(r) for r in rows)
        lines.append(f'  n{t._id} [label="{label}"];')
    for parent, child in edges(nodes):
        label = edge_labels.get((parent, child))
        attributes = f' [label="{_escape(label)}"]' if label is not None else ""
        lines.append(f"  n{parent._id} -> n{child._id}{attributes};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def reachable(output) -> list:
    """Every tensor behind `output` (itself included), inputs before the ops that use them."""
    seen = {output}
    stack = [output]
    while stack:
        for parent in stack.pop()._prev:
            if parent not in seen:
                seen.add(parent)
                stack.append(parent)
    return sorted(seen, key=lambda t: t._id)


def edges(nodes) -> list[tuple]:
    """(parent, child) pairs among `nodes`: each op's inputs, once per use."""
    return [(parent, child) for child in nodes for parent in child._prev]


def op_name(t) -> str:
    """The op that produced `t` ("+", "*", ...), or "leaf" for an input."""
    return t._op or "leaf"


def _fmt(array):
    if array is None:
        return "None"
    text = np.array2string(
        np.asarray(array), threshold=8, edgeitems=2, formatter={"float_kind": "{:.4g}".format}
    )
    return " ".join(text.split())  # one line per node row


def _escape(text):
    return text.replace("\\", "\\\\").replace('"', '\\"')
