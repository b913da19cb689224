"""The lecture's worked example f = (x1 + x2) * x3, its values, local and global gradients."""

from dataclasses import dataclass

from autodiff import Tensor, to_dot
from autodiff.dot import edges, reachable

INPUTS = {"x1": -2.0, "x2": 5.0, "x3": -4.0}


@dataclass
class WorkedExample:
    """The graph after the forward and backward passes, plus each edge's local gradient.

    `local[(parent, child)]` is d child / d parent at the forward values; each node's `.grad`
    is its global gradient d f / d node.
    """

    output: Tensor
    nodes: list[Tensor]
    edges: list[tuple[Tensor, Tensor]]
    local: dict[tuple[Tensor, Tensor], float]

    def by_name(self, name: str) -> Tensor:
        return next(t for t in self.nodes if t.name == name)

    def dot(self) -> str:
        """`to_dot` with every edge labelled by its local gradient."""
        labels = {edge: f"local {_number(g)}" for edge, g in self.local.items()}
        return to_dot(self.output, edge_labels=labels)


def worked_example() -> WorkedExample:
    """Build f(x1, x2, x3) = (x1 + x2) * x3 at (-2, 5, -4) and run it backwards."""
    x1, x2, x3 = (Tensor(v, requires_grad=True, name=k) for k, v in INPUTS.items())
    z = x1 + x2
    z.name = "z"
    f = z * x3
    f.name = "f"
    nodes = reachable(f)
    graph_edges = edges(nodes)
    local = local_gradients(nodes, graph_edges)
    _clear(nodes)
    f.backward()  # global gradients: d f / d node, through the chain rule
    return WorkedExample(f, nodes, graph_edges, local)


def local_gradients(nodes, graph_edges) -> dict:
    """d child / d parent for every edge, by the engine itself: a backward pass seeded at the
    child (d child / d child = 1) stops one op later, at the child's inputs."""
    local = {}
    for child in {c for _, c in graph_edges}:
        _clear(nodes)
        child.backward()
        for parent, c in graph_edges:
            if c is child:
                local[(parent, child)] = float(parent.grad)
    return local


def _clear(nodes) -> None:
    for t in nodes:
        t.grad = None


def _number(value: float) -> str:
    return f"{value:.4g}"
