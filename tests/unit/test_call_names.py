"""Only gateway/ and legacy/ read pypowerwall call-name strings (e.g.
"poll('/api/meters/aggregates')"); everything else reads the typed Snapshot.readings."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pypowerwall_server
from pypowerwall_server.gateway.schedule import poll_plan
from pypowerwall_server.legacy.derivations import DERIVATIONS

PACKAGE = Path(pypowerwall_server.__file__).parent
ALLOWED = ("gateway", "legacy")
# A call name: a dotted name applied to literal arguments, e.g. "vitals()",
# "grid_status('string')", "tedapi.get_config()", "poll('/api/x', jsonformat=True)".
CALL_SHAPE = re.compile(r"^([a-z_][\w.]*)\((?:'[^']*'|\"[^\"]*\"|[\w=, .]*)*\)$")


def library_functions() -> set[str]:
    """The names of the library functions the server calls ("poll", "vitals", ...)."""
    plan = poll_plan()
    return {name.split("(")[0] for name in (*plan.fast_calls, *plan.slow_calls, *DERIVATIONS)}


def call_names_in(source: str) -> list[tuple[int, str]]:
    functions = library_functions()
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            match = CALL_SHAPE.match(node.value)
            if match and match.group(1) in functions:
                found.append((node.lineno, node.value))
    return found


def modules_outside_allowed() -> list[Path]:
    return [
        path
        for path in sorted(PACKAGE.rglob("*.py"))
        if path.relative_to(PACKAGE).parts[0] not in ALLOWED
    ]


def test_no_call_name_strings_outside_gateway_and_legacy():
    found = [
        f"{path.relative_to(PACKAGE)}:{line}: {value!r}"
        for path in modules_outside_allowed()
        for line, value in call_names_in(path.read_text())
    ]
    assert found == []


def test_the_check_recognises_call_names():
    """The test above fails on a module that reads a call by name (as answers.py did)."""
    source = """
level = calls.get("level()")
status = calls.get("grid_status('string')")
x = {"aggregates": "poll('/api/meters/aggregates', jsonformat=True)", "c": "tedapi.get_config()"}
text = "a plain sentence (with brackets)"
"""
    assert [value for _, value in call_names_in(source)] == [
        "level()",
        "grid_status('string')",
        "poll('/api/meters/aggregates', jsonformat=True)",
        "tedapi.get_config()",
    ]
    assert len(modules_outside_allowed()) > 20  # the walk sees the package
