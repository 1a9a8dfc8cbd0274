"""`--check-config --probe` as a user runs it: the real CLI in a subprocess, the
real pypowerwall against the simulator on loopback. One line per gateway x transport with
ok or the failure's class; exit 0 only when every gateway has a working transport."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from pypowerwall_server.simulator.config import SiteConfig
from pypowerwall_server.simulator.runner import RunningSimulator, running_simulator
from tests.unit.test_cli_config_errors import Run, run_cli

from .conftest import closed_port, frozen_gateway

pytestmark = pytest.mark.integration

WRONG_GW_PWD = "WrongGwPwd99"
CUSTOMER_PASSWORD = "Customer-Pw-42"


@pytest.fixture(scope="module")
def sim() -> Iterator[RunningSimulator]:
    sites = [replace(SiteConfig.for_index(0), gateway_id="home", powerwalls=2)]
    with running_simulator(sites, app_factory=frozen_gateway, admin=False) as running:
        yield running


def probe(tmp_path: Path, gateways: list[dict[str, object]]) -> Run:
    config = tmp_path / "gateways.yaml"
    config.write_text(yaml.safe_dump({"gateways": gateways}))
    return run_cli(["--config", str(config), "--check-config", "--probe"], {}, tmp_path)


def probe_lines(run: Run) -> dict[tuple[str, str], str]:
    """(gateway, transport) -> the rest of its line."""
    start = run.stdout.index("probe (")
    found = {}
    for line in run.stdout[start:].splitlines()[1:]:
        if not line.startswith("  "):
            break
        gateway, transport, rest = line.split(maxsplit=2)
        found[(gateway, transport)] = rest
    return found


def test_probe_prints_each_transport_and_exits_1_when_a_gateway_has_none_working(
    sim: RunningSimulator, tmp_path: Path
) -> None:
    home = sim.gateway("home")
    gw_pwd = home.config.gw_pwd
    run = probe(
        tmp_path,
        [
            {"id": "good", "host": home.host, "gw_pwd": gw_pwd},
            {  # the wired LAN's local API refuses; the Wi-Fi TEDAPI answers
                "id": "mixed",
                "host": f"127.0.0.1:{closed_port()}",
                "password": CUSTOMER_PASSWORD,
                "wifi_host": home.host,
                "gw_pwd": gw_pwd,
                "transports": ["local", "tedapi"],
            },
            {"id": "locked", "host": home.host, "gw_pwd": WRONG_GW_PWD},
        ],
    )
    output = run.stdout + run.stderr
    print(run.stdout[run.stdout.index("probe (") :])
    assert run.code == 1, output
    assert "Traceback" not in output
    for secret in (gw_pwd, WRONG_GW_PWD, CUSTOMER_PASSWORD):
        assert secret not in output
    lines = probe_lines(run)
    assert list(lines) == [
        ("good", "tedapi"),
        ("mixed", "local"),
        ("mixed", "tedapi"),
        ("locked", "tedapi"),
    ]
    assert lines[("good", "tedapi")].startswith("ok (")
    assert lines[("mixed", "local")].startswith("refused (")
    assert lines[("mixed", "tedapi")].startswith("ok (")
    assert lines[("locked", "tedapi")].startswith("auth failed (")
    assert run.stdout.rstrip().endswith("no working transport: locked")


def test_probe_exits_0_when_every_gateway_has_a_working_transport(
    sim: RunningSimulator, tmp_path: Path
) -> None:
    home = sim.gateway("home")
    run = probe(tmp_path, [{"id": "good", "host": home.host, "gw_pwd": home.config.gw_pwd}])
    assert run.code == 0, run.stdout + run.stderr
    (line,) = probe_lines(run).items()
    assert line[0] == ("good", "tedapi") and line[1].startswith("ok (")
    assert run.stdout.rstrip().endswith("every gateway has a working transport")


def test_probe_only_with_check_config(tmp_path: Path) -> None:
    run = run_cli(["--probe", "--gw-pwd", "AbcdefGhij"], {}, tmp_path)
    assert run.code == 2
    assert run.stderr.strip() == "error: --probe (command line): only with --check-config"
