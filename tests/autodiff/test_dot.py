"""to_dot on the lecture's example: values forward, gradients backward."""

import re

from lecture_example import LECTURE_NODE_ROWS

from autodiff import Tensor, to_dot


def lecture_graph():
    x1 = Tensor(-2.0, requires_grad=True, name="x1")
    x2 = Tensor(5.0, requires_grad=True, name="x2")
    x3 = Tensor(-4.0, requires_grad=True, name="x3")
    z = x1 + x2
    z.name = "z"
    f = z * x3
    f.name = "f"
    return f


def labels(dot):
    """node id -> label rows."""
    return {m[1]: m[2].split("\\n") for m in re.finditer(r'(n\d+) \[label="([^"]*)"\]', dot)}


def test_nodes_show_op_value_and_gradient():
    f = lecture_graph()
    f.backward()
    dot = to_dot(f)
    assert dot.startswith("digraph") and dot.rstrip().endswith("}")
    rows = {r[0]: r[1:] for r in labels(dot).values()}
    assert rows == LECTURE_NODE_ROWS


def test_edges_run_from_inputs_to_outputs():
    f = lecture_graph()
    dot = to_dot(f)
    ids = {rows[0]: node for node, rows in labels(dot).items()}
    edges = set(re.findall(r"(n\d+) -> (n\d+);", dot))
    expected = {("x1", "z"), ("x2", "z"), ("z", "f"), ("x3", "f")}
    assert edges == {(ids[a], ids[b]) for a, b in expected}


def test_before_backward_gradients_are_none_and_arrays_fit_on_one_line():
    x = Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    dot = to_dot((x * 2).sum())
    assert "grad: None" in dot
    assert "value: [[1 2] [3 4]]" in dot
