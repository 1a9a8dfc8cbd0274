"""The real CLI, as a subprocess, on bad configuration: exit code 2, one line per problem on
stderr naming the key and its source, no traceback, no secret anywhere in the output."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

GW_SECRET = "GwSecret0123"
PASSWORD_SECRET = "Pw98765"
SECRETS = (GW_SECRET, PASSWORD_SECRET)


@dataclass(frozen=True)
class Run:
    code: int
    stdout: str
    stderr: str

    @property
    def errors(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.startswith("error: ")]


def run_cli(args: list[str], env: dict[str, str], cwd: Path) -> Run:
    """Run `python -m pypowerwall_server` with only `env` as PW_* variables."""
    base = {key: value for key, value in os.environ.items() if not key.startswith("PW_")}
    done = subprocess.run(
        [sys.executable, "-m", "pypowerwall_server", *args],
        env={**base, **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return Run(done.returncode, done.stdout, done.stderr)


def assert_config_error(run: Run, *expected: str) -> None:
    """Exit 2; each expected text is in its own error line, in order; nothing else on stderr."""
    output = run.stdout + run.stderr
    assert run.code == 2, output
    assert "Traceback" not in output
    assert not any(secret in output for secret in SECRETS), output
    assert run.stderr.splitlines() == run.errors, "only error lines expected on stderr"
    assert len(run.errors) == len(expected), run.errors
    for line, text in zip(run.errors, expected, strict=True):
        assert text in line, (line, text)


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_bad_json_in_pw_gateways(tmp_path: Path) -> None:
    env = {"PW_GATEWAYS": '[{"id": "home", "gw_pwd": "' + GW_SECRET + '",}]'}
    run = run_cli([], env, tmp_path)
    assert_config_error(run, "error: PW_GATEWAYS (environment): invalid JSON: ")


def test_bad_yaml_file(tmp_path: Path) -> None:
    path = write(tmp_path, "bad.yaml", f"gateways:\n  - id: home\n    gw_pwd: '{GW_SECRET}\n")
    run = run_cli(["--config", path], {}, tmp_path)
    assert_config_error(run, f"error: --config (command line): invalid YAML in '{path}' at line")


def test_unknown_key_in_file(tmp_path: Path) -> None:
    document = {"gateways": [{"id": "home", "host": "10.0.0.2", "gwpwd": GW_SECRET}]}
    path = write(tmp_path, "gw.json", json.dumps(document))
    run = run_cli(["--config", path], {}, tmp_path)
    assert_config_error(
        run,
        f"error: gateways[0].gwpwd (file {path}): unknown key; did you mean 'gw_pwd'?",
        f"error: gateways[0].host (file {path}): host is set but no credential; set "
        "gateways[0].gw_pwd (TEDAPI) or gateways[0].password (local mode)",
    )


def test_unknown_top_level_key_in_file(tmp_path: Path) -> None:
    path = write(tmp_path, "c.yaml", "servers:\n  port: 1\n")
    run = run_cli(["--config", path], {"PW_GW_PWD": GW_SECRET}, tmp_path)
    assert_config_error(run, f"error: servers (file {path}): unknown key; did you mean 'server'?")


def test_unknown_key_in_pw_gateways(tmp_path: Path) -> None:
    env = {"PW_GATEWAYS": json.dumps([{"id": "home", "gw_pwd": GW_SECRET, "intervall": 3}])}
    run = run_cli([], env, tmp_path)
    assert_config_error(run, "error: PW_GATEWAYS[0].intervall (environment): unknown key")


def test_duplicate_gateway_ids(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "gateways.yaml",
        f"gateways:\n  - {{id: cabin, gw_pwd: {GW_SECRET}}}\n"
        f"  - {{id: cabin, host: 10.0.0.3, password: {PASSWORD_SECRET}}}\n",
    )
    run = run_cli(["--config", path], {}, tmp_path)
    assert_config_error(run, f"error: gateways[1].id (file {path}): duplicate id 'cabin'")


def test_host_without_credentials(tmp_path: Path) -> None:
    run = run_cli([], {"PW_HOST": "10.0.0.2"}, tmp_path)
    assert_config_error(
        run,
        "error: PW_HOST (environment): host is set but no credential; "
        "set PW_GW_PWD/--gw-pwd (TEDAPI) or PW_PASSWORD/--password (local mode)",
    )


def test_cloud_mode_without_email(tmp_path: Path) -> None:
    run = run_cli(["--cloud"], {}, tmp_path)
    assert_config_error(run, "error: --cloud (command line): cloud mode needs PW_EMAIL/--email")


def test_password_without_host(tmp_path: Path) -> None:
    run = run_cli([], {"PW_PASSWORD": PASSWORD_SECRET}, tmp_path)
    assert_config_error(run, "error: PW_PASSWORD (environment): local mode needs PW_HOST/--host")


def test_a_control_transport_without_its_credentials(tmp_path: Path) -> None:
    gateways = [
        {"id": "a", "gw_pwd": GW_SECRET, "control_transport": "fleetapi"},
        {"id": "b", "gw_pwd": GW_SECRET, "control_transport": "cloud", "siteid": 7},
        {"id": "c", "host": "10.0.0.2", "password": PASSWORD_SECRET, "control_transport": "v1r"},
        {"id": "d", "gw_pwd": GW_SECRET, "control_transport": "tedapi"},
    ]
    path = write(tmp_path, "config.json", json.dumps({"gateways": gateways}))
    run = run_cli(["--config", path], {}, tmp_path)
    assert_config_error(
        run,
        f"error: gateways[0].control_transport (file {path}): gateways[0].control_transport "
        "fleetapi needs gateways[0].siteid (its energy site: a write never reaches another site)",
        "gateways[0].control_transport fleetapi needs .pypowerwall.fleetapi in "
        "gateways[0].authpath (.): run --setup fleetapi",
        "gateways[1].control_transport cloud needs gateways[1].email",
        "gateways[1].control_transport cloud needs .pypowerwall.auth in gateways[1].authpath",
        "gateways[2].control_transport v1r writes over a v1r connection: set "
        "gateways[2].rsa_key_path or list v1r in gateways[2].transports",
        "error: gateways[3].control_transport (file",
    )
    assert run.errors[2].endswith("needs gateways[1].email")
    assert "v1r, cloud or fleetapi" in run.errors[-1]


def test_check_config_shows_where_writes_go(tmp_path: Path) -> None:
    (tmp_path / ".pypowerwall.fleetapi").write_text("{}")
    env = {
        "PW_GW_PWD": GW_SECRET,
        "PW_CONTROL_TRANSPORT": "fleetapi",
        "PW_AUTHPATH": str(tmp_path),
        "PW_SITEID": "42",
    }
    run = run_cli(["--check-config"], env, tmp_path)
    assert run.code == 0, run.stderr
    assert "    mode: tedapi" in run.stdout
    assert "    control writes: fleetapi (a connection of its own), uses authpath" in run.stdout
    read_only = run_cli(["--check-config"], {"PW_GW_PWD": GW_SECRET}, tmp_path)
    assert "    control writes: none (read-only; control_transport names a writer)" in (
        read_only.stdout
    )


def test_port_out_of_range_in_environment(tmp_path: Path) -> None:
    run = run_cli([], {"PW_GW_PWD": GW_SECRET, "PW_PORT": "70000"}, tmp_path)
    assert_config_error(
        run, "error: PW_PORT (environment): must be an integer from 1 to 65535, got '70000'"
    )


def test_port_out_of_range_on_command_line(tmp_path: Path) -> None:
    run = run_cli(["--port", "0"], {"PW_GW_PWD": GW_SECRET}, tmp_path)
    assert_config_error(
        run, "error: --port (command line): must be an integer from 1 to 65535, got '0'"
    )


def test_port_not_a_number_in_file(tmp_path: Path) -> None:
    path = write(tmp_path, "c.yaml", "server:\n  port: abc\n")
    run = run_cli(["--config", path], {"PW_GW_PWD": GW_SECRET}, tmp_path)
    assert_config_error(
        run, f"error: server.port (file {path}): must be an integer from 1 to 65535, got 'abc'"
    )


def test_non_numeric_interval(tmp_path: Path) -> None:
    run = run_cli([], {"PW_GW_PWD": GW_SECRET, "PW_CACHE_EXPIRE": "fast"}, tmp_path)
    assert_config_error(
        run,
        "error: PW_CACHE_EXPIRE (environment): must be a number of seconds, at least 0.01, "
        "got 'fast'",
    )


def test_cache_expire_of_a_nanosecond_is_refused(tmp_path: Path) -> None:
    """1e-9 was accepted: a poll loop that never rests."""
    run = run_cli([], {"PW_GW_PWD": GW_SECRET, "PW_CACHE_EXPIRE": "1e-9"}, tmp_path)
    assert_config_error(
        run,
        "error: PW_CACHE_EXPIRE (environment): must be a number of seconds, at least 0.01, "
        "got '1e-9'",
    )


def test_non_positive_interval(tmp_path: Path) -> None:
    run = run_cli(["--timeout", "0"], {"PW_GW_PWD": GW_SECRET}, tmp_path)
    assert_config_error(run, "error: --timeout (command line): must be a number of seconds")


def test_secret_of_wrong_type_is_not_echoed(tmp_path: Path) -> None:
    path = write(tmp_path, "c.yaml", "gateways:\n  - {id: a, password: 98765}\n")
    run = run_cli(["--config", path], {}, tmp_path)
    assert "98765" not in run.stderr
    assert_config_error(
        run, f"error: gateways[0].password (file {path}): must be a non-empty string"
    )


def test_unreadable_file_not_text(tmp_path: Path) -> None:
    path = tmp_path / "binary.yaml"
    path.write_bytes(b"gateways:\xff\xfe\x00" + GW_SECRET.encode())
    run = run_cli([], {"PW_CONFIG": str(path)}, tmp_path)
    assert_config_error(
        run, f"error: PW_CONFIG (environment): cannot read '{path}': not UTF-8 text"
    )


def test_config_path_is_a_folder(tmp_path: Path) -> None:
    run = run_cli(["--config", str(tmp_path)], {}, tmp_path)
    assert_config_error(run, f"error: --config (command line): cannot read '{tmp_path}': Is a dir")


def test_missing_file(tmp_path: Path) -> None:
    path = str(tmp_path / "nope.yaml")
    run = run_cli(["--config", path], {}, tmp_path)
    assert_config_error(
        run, f"error: --config (command line): cannot read '{path}': No such file or directory"
    )


def test_no_gateway_configured(tmp_path: Path) -> None:
    run = run_cli([], {}, tmp_path)
    assert_config_error(run, "error: gateways (all sources): no gateway configured")


def test_empty_gateway_list_is_not_a_silent_fallback(tmp_path: Path) -> None:
    run = run_cli([], {"PW_GATEWAYS": "[]"}, tmp_path)
    assert_config_error(run, "error: gateways (all sources): no gateway configured")


def test_single_gateway_and_list_together(tmp_path: Path) -> None:
    env = {"PW_HOST": "10.0.0.2", "PW_GATEWAYS": json.dumps([{"id": "a", "gw_pwd": "x"}])}
    run = run_cli([], env, tmp_path)
    assert_config_error(
        run, "error: PW_HOST (environment): single-gateway settings cannot be combined with"
    )


def test_unknown_option(tmp_path: Path) -> None:
    run = run_cli([f"--gw-password={GW_SECRET}"], {"PW_GW_PWD": GW_SECRET}, tmp_path)
    assert_config_error(run, "error: --gw-password (command line): unknown option")


def test_several_problems_give_several_lines(tmp_path: Path) -> None:
    document = {
        "server": {"port": 0},
        "gateways": [
            {"id": "Home!", "host": "10.0.0.2", "gw_pwd": GW_SECRET},
            {"id": "cabin", "host": "10.0.0.3", "timeout": -1, "password": PASSWORD_SECRET},
            {"id": "cabin", "email": "me@example.com", "cloud_mode": True, "colour": "red"},
        ],
    }
    path = write(tmp_path, "many.json", json.dumps(document))
    run = run_cli(["--config", path], {"PW_DEBUG": "maybe"}, tmp_path)
    source = f"(file {path})"
    assert_config_error(
        run,
        f"gateways[2].colour {source}: unknown key",
        "PW_DEBUG (environment): must be yes or no, got 'maybe'",
        f"server.port {source}: must be an integer from 1 to 65535, got 0",
        f"gateways[0].id {source}: must be lowercase letters, digits, '_' or '-'",
        f"gateways[1].timeout {source}: must be a number of seconds greater than 0, got -1",
        f"gateways[2].id {source}: duplicate id 'cabin'",
    )


# --- the good paths ----------------------------------------------------------------------------


def test_check_config_prints_resolved_gateways_with_secrets_masked(tmp_path: Path) -> None:
    env = {
        "PW_GATEWAYS": json.dumps(
            [
                {"id": "home", "host": "192.168.91.1", "gw_pwd": GW_SECRET, "poll_interval": 2},
                {"id": "cabin", "name": "Cabin", "host": "10.0.0.3", "password": PASSWORD_SECRET},
            ]
        ),
        "PW_PORT": "9001",
    }
    run = run_cli(["--check-config"], env, tmp_path)
    assert run.code == 0, run.stderr
    assert not any(secret in run.stdout + run.stderr for secret in SECRETS)
    assert "  port: 9001" in run.stdout
    assert "gateways: 2" in run.stdout
    home = run.stdout.index("  - id: home")
    cabin = run.stdout.index("  - id: cabin")
    home_text, cabin_text = run.stdout[home:cabin], run.stdout[cabin:]
    for text in ("mode: tedapi", "poll_interval: 2 s", "gw_pwd: ***", "password: (not set)"):
        assert text in home_text
    for text in ("name: Cabin", "mode: local", "host: 10.0.0.3", "password: ***"):
        assert text in cabin_text


def test_check_config_with_invalid_configuration_exits_2(tmp_path: Path) -> None:
    run = run_cli(["--check-config"], {"PW_PORT": "x", "PW_GW_PWD": GW_SECRET}, tmp_path)
    assert_config_error(run, "error: PW_PORT (environment)")


def test_version(tmp_path: Path) -> None:
    run = run_cli(["--version"], {}, tmp_path)
    assert run.code == 0
    assert run.stdout.startswith("pypowerwall-server ")
    assert "(pypowerwall 0." in run.stdout


def test_help_lists_environment_variables(tmp_path: Path) -> None:
    run = run_cli(["--help"], {}, tmp_path)
    assert run.code == 0
    for name in ("PW_HOST", "PW_GW_PWD", "PW_CACHE_EXPIRE", "PW_GATEWAYS", "PW_CONFIG"):
        assert name in run.stdout
    assert "command line > environment (PW_*) > config file" in run.stdout


def test_control_enabled_without_a_secret_shows_the_real_rule(tmp_path: Path) -> None:
    """Not "must be yes or no, got 'yes'" (nor "got True" from YAML): the rule it breaks."""
    rule = "on needs control_secret (PW_CONTROL_SECRET) set too"
    env = {"PW_CONTROL_ENABLED": "yes", "PW_HOST": "10.0.0.2", "PW_GW_PWD": GW_SECRET}
    assert_config_error(
        run_cli(["--check-config"], env, tmp_path), f"PW_CONTROL_ENABLED (environment): {rule}"
    )
    document = "server:\n  control_enabled: true\ngateways:\n  - id: a\n    host: 10.0.0.2\n"
    path = write(tmp_path, "c.yaml", document + f"    gw_pwd: {GW_SECRET}\n")
    run = run_cli(["--config", path, "--check-config"], {}, tmp_path)
    assert_config_error(run, f"server.control_enabled (file {path}): {rule}")
    assert "must be yes or no" not in run.stderr
