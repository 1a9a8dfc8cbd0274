"""Hostile configuration, through the real CLI (--check-config) as a subprocess: every file of
the corpus exits 2 with `error:` lines, no traceback, in under 2 s of CPU and 100 MB.

The corpus is the issue's reproductions: deep nesting (YAML, JSON, PW_GATEWAYS), a list as
a YAML key, devices and a FIFO instead of a file, a billion laughs, an oversized file, hosts
that smuggle a header line."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration  # runs the CLI as a process

MAX_CPU_SECONDS = 2.0
MAX_RSS_BYTES = 100 * 1024 * 1024


@dataclass(frozen=True)
class Outcome:
    code: int
    stderr: str
    cpu_seconds: float
    max_rss_bytes: int


# The CLI as `python -m pypowerwall_server` runs it, then its own peak memory (VmHWM: the
# rusage of a forked child would count the test process's memory from before exec).
RUN_AND_MEASURE = """
import runpy, sys
try:
    runpy.run_module("pypowerwall_server", run_name="__main__", alter_sys=True)
finally:
    peak = [l for l in open("/proc/self/status") if l.startswith("VmHWM:")][0]
    open(PEAK_FILE, "w").write(peak.split()[1])
"""


def check_config(args: list[str], env: dict[str, str], cwd: Path) -> Outcome:
    """`python -m pypowerwall_server --check-config ...`, with its CPU time from wait4 and
    its peak memory (a watchdog kills it after 30 s so a hang fails instead of blocking)."""
    base = {key: value for key, value in os.environ.items() if not key.startswith("PW_")}
    peak_file = cwd / "peak-kib"
    script = f"PEAK_FILE = {str(peak_file)!r}\n" + RUN_AND_MEASURE
    process = subprocess.Popen(
        [sys.executable, "-c", script, "--check-config", *args],
        env={**base, **env},
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    watchdog = threading.Timer(30.0, process.kill)
    watchdog.start()
    try:
        assert process.stderr is not None
        stderr = process.stderr.read().decode("utf-8", "replace")
        _, status, usage = os.wait4(process.pid, 0)
    finally:
        watchdog.cancel()
        process.returncode = 0  # reaped by wait4 above
    code = os.waitstatus_to_exitcode(status)
    peak = int(peak_file.read_text()) * 1024
    return Outcome(code, stderr, usage.ru_utime + usage.ru_stime, peak)


def _laughs() -> str:
    lines = ['l0: &l0 "lol"']
    for level in range(1, 10):
        lines.append(f"l{level}: &l{level} [{', '.join([f'*l{level - 1}'] * 9)}]")
    return "\n".join(lines) + "\ngateways:\n  - id: a\n    gw_pwd: x\n    name: *l9\n"


def _gateway_with_host(host: str) -> str:
    return f'gateways:\n  - id: a\n    gw_pwd: secret-pw\n    host: "{host}"\n'


def _oversized() -> str:
    return "gateways:\n" + "".join(f"  - id: g{n}\n    gw_pwd: x\n" for n in range(400_000))


def _fifo(folder: Path) -> str:
    path = folder / "fifo.yaml"
    os.mkfifo(path)  # nobody ever writes: reading it would hang
    return str(path)


def _written(name: str, text: str) -> Callable[[Path], str]:
    def make(folder: Path) -> str:
        path = folder / name
        path.write_text(text, encoding="utf-8")
        return str(path)

    return make


CORPUS: dict[str, Callable[[Path], str]] = {
    "yaml_nested_20k_levels": _written("deep.yaml", "x: " + "[" * 20_000 + "]" * 20_000),
    "yaml_block_nested_5k_levels": _written(
        "block.yaml", "".join(f"{'  ' * n}k{n}:\n" for n in range(5_000)) + "  " * 5_000 + "v: 1\n"
    ),
    "json_nested_60k_levels": _written("deep.json", "[" * 60_000 + "]" * 60_000),
    "json_nested_40_levels": _written("forty.json", '{"server": ' + "[" * 40 + "]" * 40 + "}"),
    "yaml_list_as_key": _written("listkey.yaml", "gateways:\n  - ? [a, b]\n    : 1\n"),
    "yaml_mapping_as_key": _written("mapkey.yaml", "? {a: 1}\n: 1\n"),
    "billion_laughs": _written("laughs.yaml", _laughs()),
    "oversized_8_mb": _written("big.yaml", _oversized()),
    "host_two_colons_and_a_header": _written(
        "crlf.yaml", _gateway_with_host("127.0.0.1:1\\r\\nX-Injected: 1")
    ),
    "host_with_a_trailing_newline": _written("nl.yaml", _gateway_with_host("10.0.0.5\\n")),
    "host_many_colons": _written("colons.yaml", _gateway_with_host("a:b:c")),
    "dev_zero": lambda _: "/dev/zero",
    "dev_urandom": lambda _: "/dev/urandom",
    "fifo": _fifo,
    "folder": lambda folder: str(folder),
    "not_utf8": lambda folder: (folder / "bin.yaml").write_bytes(b"\xff\xfe\x00x") and "",
}


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_hostile_config_file_exits_2_quickly_and_small(name: str, tmp_path: Path) -> None:
    path = CORPUS[name](tmp_path) or str(tmp_path / "bin.yaml")
    outcome = check_config(["--config", path], {}, tmp_path)
    _assert_refused(outcome)


@pytest.mark.parametrize(
    "text",
    [
        "[" * 60_000 + "]" * 60_000,
        '[{"id": "a", "gw_pwd": "x", "name": ' + "[" * 100 + "]" * 100 + "}]",
        '[{"id": "a", "gw_pwd": "x", "host": "127.0.0.1:1\\r\\nX-Injected: 1"}]',
    ],
    ids=["nested_60k", "nested_100", "host_header"],
)
def test_hostile_pw_gateways_exits_2_quickly_and_small(text: str, tmp_path: Path) -> None:
    _assert_refused(check_config([], {"PW_GATEWAYS": text}, tmp_path))


def _assert_refused(outcome: Outcome) -> None:
    lines = outcome.stderr.splitlines()
    assert outcome.code == 2, outcome.stderr[-2000:]
    assert lines and all(line.startswith(("error: ", "warning: ")) for line in lines), lines[:5]
    assert "Traceback" not in outcome.stderr
    assert outcome.cpu_seconds < MAX_CPU_SECONDS
    assert outcome.max_rss_bytes < MAX_RSS_BYTES
