"""`pypowerwall-server simulate`: prints usable gateway configs, stops on time or SIGTERM,
and rejects bad arguments with exit status 2 and one line on stderr."""

from __future__ import annotations

import json
import shlex
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from pypowerwall_server.simulator.cli import simulate_main

from .v1r_signing import public_pem, rsa_key

pytestmark = pytest.mark.integration  # starts a server or the simulator

COMMAND = [sys.executable, "-m", "pypowerwall_server.simulator.cli"]


def parse_output(text: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    env_line = next(line for line in text.splitlines() if line.startswith("PW_GATEWAYS="))
    (assignment,) = shlex.split(env_line)
    as_json = json.loads(assignment.removeprefix("PW_GATEWAYS="))
    as_yaml = yaml.safe_load(text.split("# YAML:", 1)[1])
    return as_json, as_yaml


def test_simulate_prints_json_and_yaml_gateway_configs_and_stops_after_duration() -> None:
    done = subprocess.run(
        [*COMMAND, "--gateways", "2", "--duration", "2", "--seed", "7", "--powerwalls", "3"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    as_json, as_yaml = parse_output(done.stdout)
    assert [g["id"] for g in as_json] == ["gw1", "gw2"]
    assert {"id", "host", "gw_pwd"} == set(as_json[0])
    assert "replace gw_pwd with password and email (gw1: password " in done.stdout
    assert as_json[0]["host"].startswith("127.0.0.1:")
    assert as_yaml == {"gateways": as_json}
    assert "Admin API: http://127.0.0.1:" in done.stdout


def test_simulate_serves_until_sigterm() -> None:
    process = subprocess.Popen(
        [*COMMAND, "--gateways", "2", "--admin-token", "tok"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(6)]
        admin_url = lines[1].split(": ", 1)[1].strip()
        hosts = [g["host"] for g in json.loads(shlex.split(lines[5])[0].split("=", 1)[1])]
        for host in hosts:
            answer = requests.get(f"https://{host}/api/status", verify=False, timeout=5)
            assert answer.status_code == 200
        listed = requests.get(
            f"{admin_url}/gateways", headers={"Authorization": "Bearer tok"}, timeout=5
        ).json()
        assert [g["host"] for g in listed["gateways"]] == hosts
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(5)


def free_port_pair() -> int:
    """A port P with P and P+1 both free right now."""
    for _ in range(50):
        with socket.socket() as first:
            first.bind(("127.0.0.1", 0))
            port: int = first.getsockname()[1]
            with socket.socket() as second:
                try:
                    second.bind(("127.0.0.1", port + 1))
                except OSError:
                    continue
                return port
    raise AssertionError("no two consecutive free ports")


def test_simulate_puts_gateway_i_on_port_p_plus_i() -> None:
    port = free_port_pair()
    done = subprocess.run(
        [*COMMAND, "--gateways", "2", "--port", str(port), "--duration", "1"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    as_json, _ = parse_output(done.stdout)
    assert [g["host"] for g in as_json] == [f"127.0.0.1:{port}", f"127.0.0.1:{port + 1}"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--gateways", "0"], "--gateways"),
        (["--gateways", "x"], "invalid int value"),
        (["--port", "65535", "--gateways", "2"], "--port"),
        (["--acceleration", "0"], "--acceleration"),
        (["--powerwalls", "0"], "--powerwalls"),
        (["--duration", "-1"], "--duration"),
        (["--admin-port", "70000"], "--admin-port"),
        (["--cert", "/nonexistent.pem"], "--cert and --key"),
        (["--cert", "/nonexistent.pem", "--key", "/nonexistent.key"], "no such file"),
        (["--bogus"], "unrecognized arguments"),
        (["--fleet-api", "--fleet-api-port", "70000"], "--fleet-api-port"),
        (["--fleet-api-port", "9000"], "needs --fleet-api"),
        (["--v1r-key", "/nonexistent.pem"], "no such file"),
        (["--v1r-key", __file__], "--v1r-key"),  # not a key
    ],
)
def test_bad_arguments_exit_2_with_one_line(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert simulate_main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    assert message in captured.err


def test_help_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert simulate_main(["--help"]) == 0
    assert "--gateways" in capsys.readouterr().out


def test_fleet_api_and_v1r_key_from_the_command_line(tmp_path: Path) -> None:
    key = rsa_key("cli")
    public = tmp_path / "public.pem"
    public.write_bytes(public_pem(key))
    process = subprocess.Popen(
        [*COMMAND, "--fleet-api", "--v1r-key", str(public), "--admin-token", "tok"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        lines: list[str] = []
        while not any(line.startswith("Fleet API: ") for line in lines) and len(lines) < 40:
            lines.append(process.stdout.readline())
        admin_url = lines[1].split(": ", 1)[1].strip()
        fleet_url = lines[-1].split(" ")[2]
        auth = {"authorization": "Bearer tok"}
        info = requests.get(f"{admin_url}/fleetapi", headers=auth, timeout=5).json()
        assert info["url"] == fleet_url and fleet_url.startswith("https://127.0.0.1:")
        keys = requests.get(f"{admin_url}/gateways/gw1/v1r/keys", headers=auth, timeout=5).json()
        assert [k["state"] for k in keys["keys"]] == ["verified"]
        config = requests.get(f"{admin_url}/gateways/gw1/fleetapi_config", headers=auth, timeout=5)
        assert config.json()["AUDIENCE"] == fleet_url
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=30)
    assert process.returncode == 0


def test_simulate_config_makes_the_server_warn_gw_pwd_is_not_used() -> None:
    """The printed configuration, as a server reads it, draws no warning (it had both a
    password and gw_pwd: "gw_pwd is not used")."""
    from pypowerwall_server.settings import GatewayConfig
    from pypowerwall_server.settings.advice import settings_warnings
    from pypowerwall_server.settings.models import ServerConfig, Settings

    done = subprocess.run(
        [*COMMAND, "--gateways", "2", "--duration", "1"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    as_json, _ = parse_output(done.stdout)
    gateways = tuple(GatewayConfig(**entry) for entry in as_json)
    settings = Settings(server=ServerConfig(bind_address="127.0.0.1"), gateways=gateways)
    assert settings_warnings(settings) == []
    assert all(g.mode == "tedapi" for g in gateways)
