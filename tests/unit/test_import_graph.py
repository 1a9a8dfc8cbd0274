"""The package's import graph (docs/architecture.md, package order): no import cycles between
modules, nor between packages (each subpackage, and each top-level module, one node), so
the packages have an order; the data flow's lower layers never import the upper ones. Every
import counts, inside functions and under TYPE_CHECKING too."""

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


def package_of(module: str) -> str:
    """The node a module counts for in the package order: its subpackage of the package
    (`pypowerwall_server.gateway`), or itself when it is a top-level module."""
    return ".".join(module.split(".")[:2])


def package_graph(graph: Graph) -> Graph:
    packages: Graph = {package_of(module): set() for module in graph}
    for module, targets in graph.items():
        packages[package_of(module)].update(
            package_of(target) for target in targets if package_of(target) != package_of(module)
        )
    return packages


def package_cycle_arrows(graph: Graph) -> list[tuple[str, str]]:
    """The module imports that make the package cycles: what to change to break them."""
    found = cycles(package_graph(graph))
    return sorted(
        (module, target)
        for members in found
        for module, targets in graph.items()
        for target in targets
        if package_of(module) in members
        and package_of(target) in members
        and package_of(module) != package_of(target)
    )


# Lower layers of the data flow never import these upper ones (the order holds in any layout).
NEVER_IMPORTS = {
    "gateway": {"api", "http", "streams", "mqtt", "web", "control"},
    "streams": {"api", "mqtt", "web"},
    "mqtt": {"api", "http", "streams", "web"},
    "legacy": {"api", "http", "streams", "mqtt", "web", "gateway", "hub", "control"},
    "settings": {"api", "http", "streams", "mqtt", "web", "gateway", "hub", "control"},
    "simulator": {"api", "http", "streams", "mqtt", "web", "hub", "control"},
}


def test_lower_layers_never_import_upper_ones():
    graph = import_graph()
    arrows = [
        (module, target)
        for module, targets in graph.items()
        for target in targets
        if package_of(target).rpartition(".")[2]
        in NEVER_IMPORTS.get(package_of(module).rpartition(".")[2], set())
    ]
    assert arrows == []


def test_no_import_cycles():
    assert cycles(import_graph()) == []


def test_no_package_cycles():
    graph = import_graph()
    assert cycles(package_graph(graph)) == [], package_cycle_arrows(graph)


def test_the_checks_see_imports_and_cycles():
    graph = import_graph()
    assert "pypowerwall_server.answers" in graph["pypowerwall_server.streams.payloads"]
    # inside a function:
    assert "pypowerwall_server.api.routes_gateways" in graph["pypowerwall_server.api.full_app"]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"a"}}) == [["a"]]


def test_the_package_check_fails_on_a_package_cycle_without_a_module_cycle():
    """hub ↔ gateway as it was: hub imported gateway.poller (for GatewayState) while
    gateway.supervisor imported hub. No module cycle, yet the packages had no order."""
    graph = import_graph()
    graph["pypowerwall_server.hub"] = graph["pypowerwall_server.hub"] | {
        "pypowerwall_server.gateway.poller"
    }
    assert cycles(graph) == []
    assert cycles(package_graph(graph)) == [
        ["pypowerwall_server.gateway", "pypowerwall_server.hub"]
    ]
    assert ("pypowerwall_server.hub", "pypowerwall_server.gateway.poller") in package_cycle_arrows(
        graph
    )
    assert ("pypowerwall_server.gateway.supervisor", "pypowerwall_server.hub") in (
        package_cycle_arrows(graph)
    )


def test_packages_group_subpackages_and_top_level_modules():
    graph = {
        "pkg.a.x": {"pkg.b.y"},
        "pkg.b.z": {"pkg.top"},
        "pkg.top": {"pkg.a.w"},
        "pkg.a.w": set(),
        "pkg.b.y": set(),
    }
    assert package_graph(graph) == {"pkg.a": {"pkg.b"}, "pkg.b": {"pkg.top"}, "pkg.top": {"pkg.a"}}
    assert cycles(graph) == []
    assert cycles(package_graph(graph)) == [["pkg.a", "pkg.b", "pkg.top"]]
