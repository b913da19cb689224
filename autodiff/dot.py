"""Graphviz DOT rendering of a graph: each node's op, value and gradient."""

from __future__ import annotations

import numpy as np


def to_dot(output) -> str:
    """DOT text of the graph that produced `output`, edges running from inputs to outputs.

    Each node shows its name (if set), its op ("leaf" for inputs), its value (the forward
    pass) and its gradient (d output / d node after `output.backward()`, "None" before), as
    in the lecture's picture of activations flowing forward and gradients flowing back.
    Render with `dot -Tpng`.
    """
    nodes = _reachable(output)
    lines = [
        "digraph autodiff {",
        "  rankdir=LR;",
        '  node [shape=box, fontname="monospace"];',
    ]
    for t in nodes:
        rows = [t.name] if t.name else []
        rows += [f"op: {t._op or 'leaf'}", f"value: {_fmt(t.data)}", f"grad: {_fmt(t.grad)}"]
        label = "\\n".join(_escape(r) for r in rows)
        lines.append(f'  n{t._id} [label="{label}"];')
    for t in nodes:
        for parent in t._prev:
            lines.append(f"  n{parent._id} -> n{t._id};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _reachable(output):
    seen = {output}
    stack = [output]
    while stack:
        for parent in stack.pop()._prev:
            if parent not in seen:
                seen.add(parent)
                stack.append(parent)
    return sorted(seen, key=lambda t: t._id)


def _fmt(array):
    if array is None:
        return "None"
    text = np.array2string(
        np.asarray(array), threshold=8, edgeitems=2, formatter={"float_kind": "{:.4g}".format}
    )
    return " ".join(text.split())  # one line per node row


def _escape(text):
    return text.replace("\\", "\\\\").replace('"', '\\"')
