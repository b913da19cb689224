"""The lecture's worked example from the engine: values, local and global gradients."""

import re

from lecture_example import LECTURE_NODE_ROWS

from trainer.lecture.worked_example import worked_example

NODE = re.compile(r'^  (n\d+) \[label="([^"]*)"\];$', re.M)


def dot_rows(dot: str) -> dict[str, list[str]]:
    """node name -> its label rows."""
    labels = [label for _, label in NODE.findall(dot)]
    return {rows[0]: rows[1:] for rows in (label.split("\\n") for label in labels)}


def dot_edges(dot: str) -> dict[tuple[str, str], str]:
    """(parent name, child name) -> edge label."""
    names = {node: label.split("\\n")[0] for node, label in NODE.findall(dot)}
    found = re.findall(r'(n\d+) -> (n\d+) \[label="([^"]*)"\];', dot)
    return {(names[a], names[b]): label for a, b, label in found}


def test_dot_text_holds_the_lectures_values_and_gradients():
    rows = dot_rows(worked_example().dot())
    assert rows == LECTURE_NODE_ROWS


def test_edges_carry_the_lectures_local_gradients():
    # dz/dx1 = dz/dx2 = 1, df/dz = x3 = -4, df/dx3 = z = 3
    assert dot_edges(worked_example().dot()) == {
        ("x1", "z"): "local 1",
        ("x2", "z"): "local 1",
        ("z", "f"): "local -4",
        ("x3", "f"): "local 3",
    }


def test_global_gradient_is_upstream_times_local_on_every_edge():
    example = worked_example()
    for (parent, child), local in example.local.items():
        assert parent.grad.item() == child.grad.item() * local
