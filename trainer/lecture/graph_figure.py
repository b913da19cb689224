"""The worked example's graph drawn with matplotlib: values forward, gradients backward."""

from matplotlib.figure import Figure
from matplotlib.patches import FancyBboxPatch

from autodiff.dot import op_name
from trainer.lecture.worked_example import WorkedExample
from trainer.plots import to_png

FORWARD, BACKWARD, LOCAL = "#1a7f37", "#c0392b", "#1f4e9c"
COLUMN = 1.7  # room between boxes (0.6 wide) for the edge labels


def layout(example: WorkedExample) -> dict:
    """Node -> (x, y): an op one column right of its deepest input, inputs stacked top down,
    an op level with the mean of its inputs."""
    place = {}
    leaves = [t for t in example.nodes if not any(child is t for _, child in example.edges)]
    for row, t in enumerate(leaves):
        place[t] = (0.0, -float(row))
    for t in example.nodes:  # creation order: inputs are placed before their ops
        parents = [p for p, child in example.edges if child is t]
        if parents:
            x = COLUMN + max(place[p][0] for p in parents)
            place[t] = (x, sum(place[p][1] for p in parents) / len(parents))
    return place


def node_rows(t) -> list[tuple[str, str]]:
    """(text, colour) rows of a node's box: its name, value and global gradient."""
    name = t.name or op_name(t)
    kind = "input" if op_name(t) == "leaf" else f"op {op_name(t)}"
    return [
        (f"{name}  ({kind})", "black"),
        (f"value {t.data.item():g}", FORWARD),
        (f"global df/d{name} = {t.grad.item():g}", BACKWARD),
    ]


def graph_png(example: WorkedExample, focus: str | None = None) -> bytes:
    """The graph with every node's value and global gradient and every edge's local gradient;
    with `focus`, the chain rule at that node: upstream x local = downstream."""
    place = layout(example)
    figure = Figure(figsize=(10, 4.6))
    axes = figure.add_axes((0.02, 0.07, 0.96, 0.8))
    axes.set_axis_off()
    axes.set_xlim(-0.45, max(x for x, _ in place.values()) + 0.45)
    axes.set_ylim(min(y for _, y in place.values()) - 0.6, 0.6)
    for parent, child in example.edges:
        _edge(axes, place[parent], place[child], example.local[(parent, child)], parent, child)
    for t, (x, y) in place.items():
        highlighted = focus is not None and t.name == focus
        axes.add_patch(
            FancyBboxPatch(
                (x - 0.3, y - 0.22),
                0.6,
                0.44,
                boxstyle="round,pad=0.02",
                facecolor="#fff4c2" if highlighted else "white",
                edgecolor="black",
                lw=2 if highlighted else 1,
            )
        )
        for offset, (text, colour) in zip((0.12, 0.0, -0.12), node_rows(t), strict=True):
            axes.text(x, y + offset, text, ha="center", va="center", fontsize=9, color=colour)
    if focus is None:
        figure.suptitle(
            "f(x1, x2, x3) = (x1 + x2) * x3 at (-2, 5, -4), drawn from the engine's graph",
            fontsize=11,
        )
    else:
        figure.suptitle(_chain_rule_text(example, focus), fontsize=10)
        _mark_chain_rule(axes, place, example, example.by_name(focus))
    figure.text(
        0.5,
        0.03,
        "green: value (forward pass)    red: global gradient df/d(node) (backward pass)    "
        "blue: local gradient d(child)/d(input) on each edge",
        ha="center",
        fontsize=8.5,
    )
    return to_png(figure)


def _edge(axes, start, end, local, parent, child) -> None:
    (x0, y0), (x1, y1) = start, end
    axes.annotate(
        "",
        xy=(x1 - 0.31, y1),
        xytext=(x0 + 0.31, y0),
        arrowprops={"arrowstyle": "->", "color": "gray", "lw": 1.2},
    )
    mid_x, mid_y = (x0 + x1) / 2, (y0 + y1) / 2
    name = parent.name or op_name(parent)
    axes.text(
        mid_x,
        mid_y + 0.08,
        f"local d{child.name}/d{name} = {local:g}",
        color=LOCAL,
        fontsize=8,
        ha="center",
        va="bottom",
        bbox={"facecolor": "white", "edgecolor": "none", "pad": 1},
    )


def _mark_chain_rule(axes, place, example, node) -> None:
    """Red labels under the focus node's edges: the gradient arriving and the ones leaving."""
    upstream = node.grad.item()
    for (parent, child), local in example.local.items():
        (x0, y0), (x1, y1) = place[parent], place[child]
        if child is node:
            text = f"downstream {upstream:g} x {local:g} = {parent.grad.item():g}"
        elif parent is node:
            text = f"upstream df/d{node.name} = {upstream:g}"
        else:
            continue
        axes.text(
            (x0 + x1) / 2,
            (y0 + y1) / 2 - 0.1,
            "<- " + text,
            color=BACKWARD,
            fontsize=8,
            ha="center",
            va="top",
            bbox={"facecolor": "white", "edgecolor": "none", "pad": 1},
        )


def _chain_rule_text(example: WorkedExample, focus: str) -> str:
    node = example.by_name(focus)
    upstream = node.grad.item()
    lines = [f"Chain rule at node {focus}: upstream gradient df/d{focus} = {upstream:g}"]
    for (parent, child), local in example.local.items():
        if child is node:
            downstream = parent.grad.item()
            lines.append(
                f"downstream df/d{parent.name} = upstream {upstream:g} x local "
                f"d{focus}/d{parent.name} {local:g} = {downstream:g}"
            )
    return "\n".join(lines)
