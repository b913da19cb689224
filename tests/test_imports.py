"""The product's import graph has no cycle: a cycle means two modules are one concern, or a
shared fact lacks a home of its own. Imports inside functions count too; those only for type
checkers (`if TYPE_CHECKING:`) do not."""

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("autodiff", "optimizers", "trainer")


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {
    module_name(path): path for package in PACKAGES for path in (REPO / package).rglob("*.py")
}


def is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imported(path: Path) -> set[str]:
    """The project's modules `path` imports, wherever in it the import stands."""
    found, tree = set(), ast.parse(path.read_text())
    skipped = {
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and is_type_checking(node)
        for inner in ast.walk(node)
    }
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                found.add(submodule if submodule in MODULES else node.module)
    return {name for name in found if name in MODULES} - {module_name(path)}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected group of more than one module (Tarjan), each sorted."""
    index, low, stack, on_stack, groups = {}, {}, [], set(), []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for successor in sorted(graph[node]):
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in on_stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def test_the_product_has_no_import_cycle():
    graph = {name: imported(path) for name, path in MODULES.items()}
    assert cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]


def test_the_graph_sees_imports_inside_functions_and_submodules_named_in_from_imports():
    graph = imported(MODULES["trainer.sweep.run.driver"])
    assert "trainer.sweep.record.open" in graph
    assert "trainer.sweep.plan.searches.registry" in graph
    api = imported(MODULES["trainer.sweep.api"])
    assert "trainer.sweep.run.driver" in api  # imported inside sweep_session


SWEEP = REPO / "trainer" / "sweep"
MOST_MODULES, MOST_LINES = 12, 300


def test_the_sweep_packages_keep_to_the_layout_rule():
    """At most MOST_MODULES modules a folder and MOST_LINES lines a file, in trainer/sweep."""
    crowded = {
        str(folder.relative_to(REPO)): count
        for folder in [SWEEP, *SWEEP.rglob("*/")]
        if folder.name != "__pycache__" and (count := len(list(folder.glob("*.py")))) > MOST_MODULES
    }
    long = {
        str(path.relative_to(REPO)): lines
        for path in SWEEP.rglob("*.py")
        if (lines := len(path.read_text().splitlines())) > MOST_LINES
    }
    assert crowded == {} and long == {}
