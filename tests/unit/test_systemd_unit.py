"""contrib/systemd: the unit passes `systemd-analyze verify` with no warning and rates OK in
its offline security analysis; its environment and the example environment file hold only
known settings with valid values."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from pypowerwall_server.settings import load_settings
from pypowerwall_server.settings.advice import KNOWN_ENV
from tests.conftest import require_tool

FOLDER = Path(__file__).resolve().parents[2] / "contrib" / "systemd"
UNIT = FOLDER / "pypowerwall-server.service"
ENV_FILE = FOLDER / "pypowerwall-server.env"
INSTALLED = "/opt/pypowerwall-server/bin/pypowerwall-server"


def unit_for_this_machine(tmp_path: Path) -> Path:
    """The unit as shipped, with ExecStart at this machine's installed command (verify checks
    that it is an executable file)."""
    text = UNIT.read_text(encoding="utf-8")
    assert f"ExecStart={INSTALLED}\n" in text
    here = Path(sys.executable).parent / "pypowerwall-server"
    copy = tmp_path / UNIT.name
    copy.write_text(text.replace(f"ExecStart={INSTALLED}", f"ExecStart={here}"), "utf-8")
    return copy


def analyze(*args: str) -> subprocess.CompletedProcess[str]:
    tool = require_tool("systemd-analyze", "apt-get install systemd")
    return subprocess.run([tool, *args], capture_output=True, text=True, timeout=60, check=False)


def test_unit_verifies_without_any_warning(tmp_path: Path) -> None:
    done = analyze("verify", "--man=no", str(unit_for_this_machine(tmp_path)))
    assert (done.returncode, done.stdout + done.stderr) == (0, "")


def test_unit_sandbox_rates_ok(tmp_path: Path) -> None:
    done = analyze("security", "--offline=yes", str(unit_for_this_machine(tmp_path)))
    found = re.search(r"Overall exposure level for \S+: ([\d.]+) (\w+)", done.stdout)
    assert found is not None, done.stdout + done.stderr
    assert float(found.group(1)) <= 2.0 and found.group(2) == "OK", found.group(0)


def test_unit_keeps_secrets_out_and_does_not_restart_on_bad_config() -> None:
    text = UNIT.read_text(encoding="utf-8")
    for line in (
        "EnvironmentFile=/etc/pypowerwall-server/pypowerwall-server.env",
        "Restart=on-failure",
        "RestartPreventExitStatus=2",
        "DynamicUser=yes",
        "ProtectSystem=strict",
        "KillSignal=SIGTERM",
    ):
        assert f"\n{line}\n" in text, line
    assert not re.search(r"PW_(GW_PWD|PASSWORD)=", text), "secrets belong in the env file"


def environment_of(text: str) -> dict[str, str]:
    """PW_* assignments: the unit's Environment= lines, or the env file's KEY=value lines."""
    pairs = {}
    for line in text.splitlines():
        for word in line.strip().removeprefix("Environment=").split():
            key, equals, value = word.partition("=")
            if equals and key.startswith("PW_"):
                pairs[key] = value
    return pairs


def test_environment_holds_known_valid_settings() -> None:
    unit_env = environment_of(UNIT.read_text(encoding="utf-8"))
    file_env = environment_of(ENV_FILE.read_text(encoding="utf-8"))
    assert set(unit_env) == {"PW_AUTHPATH", "PW_DATA_DIR"}
    assert set(unit_env) | set(file_env) <= KNOWN_ENV
    settings = load_settings([], {**file_env, **unit_env})
    assert settings.gateways[0].mode == "tedapi"
    assert settings.server.data_dir == "/var/lib/pypowerwall-server"
