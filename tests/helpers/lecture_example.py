"""The lecture's worked example, f = (x1 + x2) * x3 at (-2, 5, -4), as to_dot labels its nodes."""

# Each node: op, value (forward pass), global gradient df/d(node) (backward pass), from the slides.
LECTURE_NODE_ROWS = {
    "x1": ["op: leaf", "value: -2", "grad: -4"],
    "x2": ["op: leaf", "value: 5", "grad: -4"],
    "x3": ["op: leaf", "value: -4", "grad: 3"],
    "z": ["op: +", "value: 3", "grad: -4"],
    "f": ["op: *", "value: -12", "grad: 1"],
}
