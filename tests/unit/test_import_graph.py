"""The package's import graph (DESIGN.md data flow): streams/ never imports api/, and there
are no import cycles, counting every import (inside functions and under TYPE_CHECKING too)."""

from __future__ import annotations

import ast
from pathlib import Path

import pypowerwall_server

PACKAGE = Path(pypowerwall_server.__file__).parent
ROOT = "pypowerwall_server"
Graph = dict[str, set[str]]


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, modules: set[str]) -> set[str]:
    """Every module of ours that `path` imports, wherever the import statement is."""
    found: set[str] = set()
    package = (
        module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    )
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                found.add(submodule if submodule in modules else base)
    return {name for name in found if name in modules}


def import_graph() -> Graph:
    paths = sorted(PACKAGE.rglob("*.py"))
    modules = {module_name(p) for p in paths}
    return {module_name(p): imports_of(p, modules) for p in paths}


def cycles(graph: Graph) -> list[list[str]]:
    """Strongly connected components with more than one module (or a self-import)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1 or node in graph.get(node, ()):
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_streams_never_import_api():
    graph = import_graph()
    arrows = [
        (module, target)
        for module, targets in graph.items()
        if module.startswith(f"{ROOT}.streams")
        for target in targets
        if target.startswith(f"{ROOT}.api")
    ]
    assert arrows == []


def test_no_import_cycles():
    assert cycles(import_graph()) == []


def test_the_checks_see_imports_and_cycles():
    graph = import_graph()
    assert f"{ROOT}.answers" in graph[f"{ROOT}.streams.payloads"]
    assert f"{ROOT}.api.routes_gateways" in graph[f"{ROOT}.api.full_app"]  # inside a function
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"a"}}) == [["a"]]
