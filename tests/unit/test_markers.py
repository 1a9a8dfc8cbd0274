"""Every test module that starts the simulator or a server carries the `integration` marker,
so `pytest -m "not integration"` runs the fast, socket-free part of the suite."""

from __future__ import annotations

import ast
import re
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
# What starting the simulator or a server looks like in a test module (a CLI run that
# exits on bad config, subprocess.run, starts nothing).
STARTS_SOMETHING = re.compile(
    r"running_simulator|RunningSimulator|uvicorn_server|subprocess\.Popen|pypowerwall_server\.simulator\.runner"
)


def marked_integration(source: str) -> bool:
    """A module-level `pytestmark = pytest.mark.integration`."""
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "pytestmark" for t in node.targets
        ):
            return "mark.integration" in ast.unparse(node.value)
    return False


def needs_marker(path: Path, source: str) -> bool:
    return path.parent.name == "integration" or bool(STARTS_SOMETHING.search(source))


def test_modules_that_start_servers_are_integration():
    unmarked = [
        str(path.relative_to(TESTS))
        for path in sorted(TESTS.rglob("test_*.py"))
        if path.name != Path(__file__).name
        and needs_marker(path, source := path.read_text())
        and not marked_integration(source)
    ]
    assert unmarked == []


def test_the_check_sees_the_marker():
    assert marked_integration("import pytest\npytestmark = pytest.mark.integration\n")
    assert not marked_integration("import pytest\n\n@pytest.mark.integration\ndef test(): ...\n")
    assert needs_marker(Path("tests/api/test_x.py"), "from .uvicorn_server import Server")
