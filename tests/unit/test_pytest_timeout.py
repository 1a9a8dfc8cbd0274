"""The suite's own timeout ends a hung test, even when its teardown hangs in Thread.join
after the test itself timed out (a TestClient's shutdown hung a run that way; the signal
method fires once, in the test): pyproject's pytest-timeout settings use the thread
method, which dumps every thread's stack and exits."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"

HANGING_TEST = """
import threading

import pytest


@pytest.fixture
def stuck_worker():
    never = threading.Event()
    worker = threading.Thread(target=never.wait, name="stuck-worker", daemon=True)
    worker.start()
    yield worker
    worker.join()  # a shutdown waiting for its thread, after the test itself timed out


@pytest.mark.timeout(1)
def test_hangs(stuck_worker: threading.Thread) -> None:
    threading.Event().wait()
"""


def test_a_test_whose_teardown_hangs_in_thread_join_is_ended(tmp_path: Path) -> None:
    test_file = tmp_path / "test_hang.py"
    test_file.write_text(HANGING_TEST)
    command = [sys.executable, "-m", "pytest", "-c", str(PYPROJECT), "--rootdir", str(tmp_path)]
    # Only the plugins pyproject's settings need (the others take a second to load).
    command += ["-p", "pytest_timeout", "-p", "pytest_asyncio.plugin", "-p", "no:cacheprovider"]
    command += ["-q", str(test_file)]
    env = os.environ | {"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=60, cwd=tmp_path, env=env
    )
    output = done.stdout + done.stderr
    assert done.returncode != 0, output
    assert "Timeout" in output, output
    assert "stuck-worker" in output, output  # every thread's stack is in the report
