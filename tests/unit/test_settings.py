"""Settings resolution: precedence, sources, modes, masking. Pure: explicit argv and environ."""

from __future__ import annotations

import contextlib
import json
import os
import sys
from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from pypowerwall_server import cli
from pypowerwall_server.cli import run_setup
from pypowerwall_server.settings import (
    ConfigError,
    GatewayConfig,
    ServerConfig,
    Settings,
    load_settings,
)
from pypowerwall_server.settings.advice import environment_warnings, settings_warnings
from pypowerwall_server.settings.report import describe

SECRET = "Sup3rSecretGw"
TEDAPI_ENV = {"PW_HOST": "192.168.91.1", "PW_GW_PWD": SECRET}


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def problems_of(argv: list[str], environ: dict[str, str]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_settings(argv, environ)
    return caught.value.problems


# --- precedence: CLI > environment > file > defaults ------------------------------------


@pytest.mark.parametrize(
    ("in_file", "in_env", "on_cli", "expected"),
    [
        (False, False, False, 8675),
        (True, False, False, 1111),
        (True, True, False, 2222),
        (False, True, False, 2222),
        (True, True, True, 3333),
        (False, False, True, 3333),
        (True, False, True, 3333),
    ],
)
def test_port_precedence(
    tmp_path: Path, in_file: bool, in_env: bool, on_cli: bool, expected: int
) -> None:
    environ = dict(TEDAPI_ENV)
    argv = []
    if in_file:
        argv += ["--config", write(tmp_path, "c.yaml", "server:\n  port: 1111\n")]
    if in_env:
        environ["PW_PORT"] = "2222"
    if on_cli:
        argv += ["--port", "3333"]
    assert load_settings(argv, environ).server.port == expected


@pytest.mark.parametrize(
    ("file_defaults", "env", "cli", "own", "expected"),
    [
        (None, None, None, None, 5.0),
        (7, None, None, None, 7.0),
        (7, "8", None, None, 8.0),
        (7, "8", "9", None, 9.0),
        (7, "8", "9", 2, 2.0),  # the gateway's own value beats every global
    ],
)
def test_poll_interval_precedence(
    tmp_path: Path,
    file_defaults: int | None,
    env: str | None,
    cli: str | None,
    own: int | None,
    expected: float,
) -> None:
    gateway: dict[str, object] = {"id": "home", "host": "10.0.0.2", "gw_pwd": SECRET}
    if own is not None:
        gateway["poll_interval"] = own
    document: dict[str, object] = {"gateways": [gateway]}
    if file_defaults is not None:
        document["defaults"] = {"poll_interval": file_defaults}
    argv = ["--config", write(tmp_path, "c.json", json.dumps(document))]
    environ = {} if env is None else {"PW_CACHE_EXPIRE": env}
    if cli is not None:
        argv += ["--cache-expire", cli]
    assert load_settings(argv, environ).gateways[0].poll_interval == expected


def test_cli_field_overrides_environment_field_of_single_gateway() -> None:
    settings = load_settings(["--host", "10.1.1.1:8443"], TEDAPI_ENV)
    gateway = settings.gateways[0]
    assert (gateway.host, gateway.mode) == ("10.1.1.1:8443", "tedapi")
    assert gateway.gw_pwd is not None and gateway.gw_pwd.get_secret_value() == SECRET


def test_server_settings_from_environment() -> None:
    environ = {
        **TEDAPI_ENV,
        "PW_BIND_ADDRESS": "127.0.0.1",
        "PW_DEBUG": "yes",
        "PW_NEG_SOLAR": "no",
        "PW_SITE_ZERO_THRESHOLD": "50",
        "PW_CORS_ORIGINS": "https://a.example, https://b.example:8443",
        "PW_STALE_AFTER_INTERVALS": "4",
    }
    server = load_settings([], environ).server
    assert server == ServerConfig(
        bind_address="127.0.0.1",
        debug=True,
        neg_solar=False,
        site_zero_threshold=50,
        cors_origins=("https://a.example", "https://b.example:8443"),
        stale_after_intervals=4,
    )


def test_empty_environment_values_count_as_unset() -> None:
    settings = load_settings([], {**TEDAPI_ENV, "PW_PORT": "", "PW_PASSWORD": ""})
    assert settings.server.port == 8675
    assert settings.gateways[0].mode == "tedapi"


# --- sources --------------------------------------------------------------------------------


def test_pw_gateways_json() -> None:
    gateways = [
        {"id": "home", "host": "10.0.0.2", "gw_pwd": SECRET, "poll_interval": 2},
        {"id": "cabin", "name": "Cabin", "host": "10.0.0.3", "password": "12345"},
    ]
    environ = {"PW_GATEWAYS": json.dumps(gateways), "PW_TIMEOUT": "3"}
    home, cabin = load_settings([], environ).gateways
    assert (home.id, home.name, home.mode, home.poll_interval, home.timeout) == (
        "home",
        "home",
        "tedapi",
        2.0,
        3.0,
    )
    assert (cabin.id, cabin.name, cabin.mode, cabin.poll_interval) == ("cabin", "Cabin", "local", 5)


def test_yaml_file(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "gateways.yaml",
        """
server:
  host: 127.0.0.1
  port: 9000
  cors_origins: ["https://ha.example"]
defaults:
  timezone: Europe/Berlin
gateways:
  - id: home
    host: 192.168.91.1
    gw_pwd: "0123456789"
  - id: cloudy
    cloud_mode: yes
    email: me@example.com
    authpath: /auth
    siteid: 42
""",
    )
    settings = load_settings(["--config", path], {})
    assert settings.server.bind_address == "127.0.0.1"
    assert settings.server.port == 9000
    assert settings.server.cors_origins == ("https://ha.example",)
    home, cloudy = settings.gateways
    assert (home.mode, home.timezone) == ("tedapi", "Europe/Berlin")
    assert (cloudy.mode, cloudy.siteid, cloudy.authpath) == ("cloud", 42, "/auth")


def test_json_file_named_by_pw_config(tmp_path: Path) -> None:
    document = {"gateways": [{"host": "10.0.0.9", "password": "12345", "email": "a@b.c"}]}
    path = write(tmp_path, "pw.json", json.dumps(document))
    (gateway,) = load_settings([], {"PW_CONFIG": path}).gateways
    assert (gateway.id, gateway.mode, gateway.email) == ("default", "local", "a@b.c")


def test_pw_gateways_replaces_the_files_list(tmp_path: Path) -> None:
    path = write(tmp_path, "c.yaml", "gateways:\n  - {id: fromfile, host: h, gw_pwd: x}\n")
    environ = {"PW_GATEWAYS": '[{"id": "fromenv", "host": "h", "gw_pwd": "x"}]'}
    assert [g.id for g in load_settings(["--config", path], environ).gateways] == ["fromenv"]


def test_empty_yaml_file_configures_nothing(tmp_path: Path) -> None:
    path = write(tmp_path, "empty.yaml", "")
    assert load_settings(["--config", path], TEDAPI_ENV).gateways[0].id == "default"


@pytest.mark.parametrize("name", ["PW_AUTHPATH", "PW_AUTH_PATH"])
def test_authpath_and_its_proxy_alias(name: str) -> None:
    environ = {"PW_EMAIL": "me@example.com", name: "/auth/cloud"}
    (gateway,) = load_settings([], environ).gateways
    assert (gateway.authpath, gateway.mode) == ("/auth/cloud", "cloud")


def test_authpath_and_alias_that_disagree_are_an_error() -> None:
    environ = {**TEDAPI_ENV, "PW_AUTHPATH": "/a", "PW_AUTH_PATH": "/b"}
    assert problems_of([], environ) == [
        "PW_AUTH_PATH (environment): differs from PW_AUTHPATH; set only one"
    ]


def test_demo_needs_no_gateway() -> None:
    settings = load_settings(["--demo"], {})
    assert settings.demo and settings.gateways == ()


# --- modes -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("environ", "mode", "uses_tedapi"),
    [
        ({"PW_GW_PWD": SECRET}, "tedapi", True),  # host defaults to 192.168.91.1
        ({"PW_HOST": "10.0.0.2", "PW_GW_PWD": SECRET}, "tedapi", True),
        ({"PW_HOST": "10.0.0.2", "PW_PASSWORD": "12345"}, "local", False),
        ({"PW_HOST": "192.168.91.1", "PW_PASSWORD": "12345", "PW_GW_PWD": SECRET}, "local", True),
        ({"PW_HOST": "10.0.0.2", "PW_PASSWORD": "12345", "PW_GW_PWD": SECRET}, "local", False),
        ({"PW_EMAIL": "me@example.com"}, "cloud", False),  # the proxy's no-host rule
        ({"PW_EMAIL": "me@example.com", "PW_CLOUD_MODE": "yes"}, "cloud", False),
        ({"PW_FLEETAPI": "yes"}, "fleetapi", False),
        ({"PW_FLEETAPI": "yes", "PW_EMAIL": "me@example.com"}, "fleetapi", False),
    ],
)
def test_modes(environ: dict[str, str], mode: str, uses_tedapi: bool) -> None:
    (gateway,) = load_settings([], environ).gateways
    assert (gateway.mode, gateway.uses_tedapi) == (mode, uses_tedapi)


def test_gw_pwd_alone_means_the_gateway_wifi_address() -> None:
    assert load_settings([], {"PW_GW_PWD": SECRET}).gateways[0].host == "192.168.91.1"


def test_hybrid_off_wifi_gives_a_warning() -> None:
    environ = {"PW_HOST": "10.0.0.2", "PW_PASSWORD": "12345", "PW_GW_PWD": SECRET}
    (warning,) = settings_warnings(load_settings([], environ))
    assert "gw_pwd is not used" in warning and SECRET not in warning


def test_cloud_flags_on_the_command_line() -> None:
    (gateway,) = load_settings(["--fleetapi", "--authpath", "/auth"], {}).gateways
    assert (gateway.mode, gateway.authpath) == ("fleetapi", "/auth")
    (gateway,) = load_settings(["--cloud", "--email", "me@example.com"], {}).gateways
    assert gateway.mode == "cloud"


# --- models built directly (as tests and the app do) ---------------------------------------


def test_gateway_config_direct_construction_checks_credentials() -> None:
    with pytest.raises(ValidationError, match="no credential; set gw_pwd"):
        GatewayConfig(id="x", name="x", host="10.0.0.2")


def test_settings_reject_duplicate_ids() -> None:
    gateway = GatewayConfig(id="x", name="x", gw_pwd=SecretStr(SECRET))
    with pytest.raises(ValidationError, match="duplicate gateway id"):
        Settings(gateways=(gateway, gateway))


def test_models_are_frozen_and_strict() -> None:
    server = ServerConfig()
    with pytest.raises(ValidationError):
        server.port = 1
    with pytest.raises(ValidationError, match="Extra inputs"):
        ServerConfig(portt=1)  # type: ignore[call-arg]


# --- secrets --------------------------------------------------------------------------------


def test_secrets_masked_in_repr_and_str() -> None:
    environ = {"PW_HOST": "192.168.91.1", "PW_GW_PWD": SECRET, "PW_PASSWORD": "Pw9876"}
    settings = load_settings([], environ)
    for text in (repr(settings), str(settings), repr(settings.gateways[0])):
        assert SECRET not in text and "Pw9876" not in text
    assert settings.gateways[0].gw_pwd is not None
    assert settings.gateways[0].gw_pwd.get_secret_value() == SECRET


def test_check_config_text_masks_secrets() -> None:
    environ = {"PW_HOST": "192.168.91.1", "PW_GW_PWD": SECRET, "PW_PASSWORD": "Pw9876"}
    text = describe(load_settings([], environ))
    assert SECRET not in text and "Pw9876" not in text
    assert "    gw_pwd: ***" in text and "    password: ***" in text
    assert "mode: local (+ TEDAPI vitals)" in text


@pytest.mark.parametrize(
    "environ",
    [
        {"PW_GATEWAYS": json.dumps([{"id": "a", "gw_pwd": 12345678}])},
        {"PW_GATEWAYS": json.dumps([{"id": "a", "host": "h", "gw_pwd": ""}])},
        {"PW_GATEWAYS": json.dumps([{"id": "a", "gw_pwd": SECRET, "gwpwd": SECRET}])},
        {"PW_GATEWAYS": '[{"id": "a", "gw_pwd": "' + SECRET + '"'},
    ],
)
def test_secret_never_in_problems(environ: dict[str, str]) -> None:
    problems = problems_of([], environ)
    assert problems and not any(SECRET in line or "12345678" in line for line in problems)


def test_unknown_cli_value_is_not_echoed() -> None:
    problems = problems_of(["--gwpwd=" + SECRET, SECRET], TEDAPI_ENV)
    assert problems == [
        "--gwpwd (command line): unknown option",
        "command line: unexpected argument #2 (value not shown)",
    ]


def test_yaml_error_does_not_quote_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "c.yaml", f'gateways:\n  - gw_pwd: "{SECRET}\n')
    (problem,) = problems_of(["--config", path], {})
    assert problem.startswith("--config (command line): invalid YAML in ")
    assert SECRET not in problem


# --- warnings about the environment ---------------------------------------------------------


def test_environment_warnings() -> None:
    environ = {"PW_HSOT": "x", "PW_STYLE": "clear", "PW_CONTROL_SECRET": "s", "PW_PORT": "1"}
    assert environment_warnings(environ) == [  # PW_CONTROL_SECRET is ours now
        "PW_HSOT (environment): unknown variable, ignored; did you mean PW_HOST?",
    ]


# --- --setup wiring (never interactive in tests) --------------------------------------------


def test_setup_runs_pypowerwalls_own_setup_into_authpath(tmp_path: Path) -> None:
    calls: list[list[str]] = []

    def fake_runner(command: list[str]) -> int:
        calls.append(command)
        return 0

    folder = tmp_path / "auth"
    code = run_setup("cloud", str(folder), None, {"PW_EMAIL": "me@example.com"}, fake_runner)
    assert code == 0 and folder.is_dir()
    (command,) = calls
    assert command[1:] == [
        "-m", "pypowerwall", "setup", "-cloud", "-authpath", str(folder),
        "-email", "me@example.com",
    ]  # fmt: skip


def test_setup_fleetapi_uses_environment_authpath(tmp_path: Path) -> None:
    calls: list[list[str]] = []

    def failing_runner(command: list[str]) -> int:
        calls.append(command)
        return 3

    environ = {"PW_AUTH_PATH": str(tmp_path)}
    code = run_setup("fleetapi", None, None, environ, failing_runner)
    assert code == 3
    assert calls[0][3:] == ["setup", "-fleetapi", "-authpath", str(tmp_path)]


def test_main_setup_flag_calls_run_setup(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[str, str | None, str | None]] = []

    def fake_setup(kind: str, authpath: str | None, email: str | None, environ: object) -> int:
        seen.append((kind, authpath, email))
        return 0

    monkeypatch.setattr(cli, "run_setup", fake_setup)
    assert cli.main(["--setup", "fleetapi", "--authpath", "/auth"]) == 0
    assert cli.main(["--setup", "--email", "me@example.com"]) == 0
    assert seen == [("fleetapi", "/auth", None), ("cloud", None, "me@example.com")]


@pytest.mark.parametrize(
    ("argv", "target"),
    [
        (["--demo"], "pypowerwall_server.demo.run_demo"),
        (["--gw-pwd", SECRET], "pypowerwall_server.app.run_server"),
    ],
)
def test_main_runs_demo_or_server(
    monkeypatch: pytest.MonkeyPatch, argv: list[str], target: str
) -> None:
    for name in [key for key in os.environ if key.startswith("PW_")]:
        monkeypatch.delenv(name)
    received: list[tuple[Settings, object]] = []
    monkeypatch.setattr(target, lambda settings, https: received.append((settings, https)))
    assert cli.main(argv) == 0
    ((settings, https),) = received
    assert settings.demo == (argv == ["--demo"])
    assert https is None  # PW_HTTPS is off by default


def test_main_delegates_simulate(monkeypatch: pytest.MonkeyPatch) -> None:
    received: list[list[str]] = []

    def fake_simulate(argv: list[str]) -> int:
        received.append(argv)
        return 7

    monkeypatch.setattr("pypowerwall_server.simulator.cli.simulate_main", fake_simulate)
    assert cli.main(["simulate", "--port", "0", "--demo"]) == 7
    assert received == [["--port", "0", "--demo"]]


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("PW_MQTT_HOST", "broker lan"),
        ("PW_MQTT_PORT", "0"),
        ("PW_MQTT_TLS", "maybe"),
        ("PW_MQTT_PREFIX", "a/b"),
        ("PW_MQTT_DISCOVERY_PREFIX", "ha/#"),
        ("PW_MQTT_CA_FILE", "/no/such/ca.pem"),
        ("PW_MQTT_MIN_INTERVAL", "-1"),
    ],
)
def test_bad_mqtt_settings_name_their_variable(variable: str, value: str) -> None:
    problems = problems_of([], {**TEDAPI_ENV, "PW_MQTT_HOST": "broker.lan", variable: value})
    assert len(problems) == 1 and variable in problems[0], problems


# --- control ------------------------------------------------------------------------------


def test_control_is_on_only_with_a_secret() -> None:
    assert ServerConfig().control_on is False
    assert ServerConfig(control_secret=SecretStr("s3cret-of-16-chars")).control_on is True
    off = ServerConfig(control_secret=SecretStr("s3cret-of-16-chars"), control_enabled=False)
    assert off.control_on is False


@pytest.mark.parametrize("env", ["PW_CONTROL_SECRET", "PW_CONTROL_TOKEN"])
def test_control_secret_from_the_environment(env: str) -> None:
    secret = "s3cret-of-16-chars"
    settings = load_settings([], {env: secret, "PW_HOST": "10.0.0.5", "PW_GW_PWD": "x"})
    assert settings.server.control_secret is not None
    assert settings.server.control_secret.get_secret_value() == secret
    assert settings.server.control_on


@pytest.mark.parametrize(
    "secret", ["fifteen-chars15", "sixteen-chars-16\nX-Injected: 1", "   padded-14chars   "]
)
def test_weak_control_secret_is_refused_at_start(secret: str) -> None:
    """A short secret is guessable; a line break cannot be sent as a header: exit 2, one
    line naming the key, never the value."""
    (problem,) = problems_of([], {"PW_CONTROL_SECRET": secret, "PW_GW_PWD": "x"})
    assert problem.startswith("PW_CONTROL_SECRET (environment): must be at least 16 characters")
    assert secret.strip() not in problem


def test_control_enabled_without_a_secret_is_a_config_error() -> None:
    (problem,) = problems_of([], {"PW_CONTROL_ENABLED": "yes", "PW_GW_PWD": "x"})
    assert "PW_CONTROL_ENABLED" in problem or "control_secret" in problem


def test_seed_file_keys_control_enabled_and_control_token(tmp_path: Path) -> None:
    text = (
        "server:\n  control_enabled: true\n  control_token: tok3n-of-16-chars\n"
        "gateways:\n  - gw_pwd: x\n"
    )
    settings = load_settings(["--config", write(tmp_path, "c.yaml", text)], {})
    assert settings.server.control_on


def test_setup_v1r_runs_pypowerwalls_key_registration_into_authpath(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--setup v1r`: pypowerwall's `setup -v1r` (v1r_register: makes the RSA key in authpath
    unless it is there, registers it through the Tesla cloud) with the folder; no email."""
    calls: list[list[str]] = []

    def fake_runner(command: list[str]) -> int:
        calls.append(command)
        return 0

    folder = tmp_path / "keys"
    code = run_setup("v1r", str(folder), "me@example.com", {}, fake_runner)
    assert code == 0 and folder.is_dir()
    (command,) = calls
    assert command[1:] == ["-m", "pypowerwall", "setup", "-v1r", "-authpath", str(folder)]
    hint = capsys.readouterr().out.splitlines()[-1]
    assert hint.endswith(f"--rsa-key-path {folder / 'tedapi_rsa_private.pem'}")


def test_pypowerwall_setup_v1r_is_its_key_registration(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The command --setup v1r runs reaches pypowerwall's v1r_register.main with the folder
    (run in-process here, with the registration itself replaced: it needs the Tesla cloud)."""
    import runpy

    import pypowerwall.v1r_register as v1r_register

    folders: list[str] = []
    monkeypatch.setattr(v1r_register, "main", lambda authpath="": folders.append(authpath))
    monkeypatch.setattr(sys, "argv", ["pypowerwall", "setup", "-v1r", "-authpath", str(tmp_path)])
    with contextlib.suppress(SystemExit):
        runpy.run_module("pypowerwall", run_name="__main__")
    assert folders == [str(tmp_path)]


@pytest.mark.parametrize("token", ["fifteen-chars15", "sixteen-chars-16\r\nX: 1"])
def test_weak_read_token_is_refused_at_start(token: str) -> None:
    (problem,) = problems_of([], {"PW_READ_TOKEN": token, "PW_GW_PWD": "x"})
    assert problem.startswith("PW_READ_TOKEN (environment): must be at least 16 characters")
    assert token.strip() not in problem


@pytest.mark.parametrize("paths", ["aggregates", "/soe?x=1", "/a b", "*"])
def test_read_open_takes_plain_paths_only(paths: str) -> None:
    (problem,) = problems_of([], {"PW_READ_OPEN": paths, "PW_GW_PWD": "x"})
    assert problem.startswith("PW_READ_OPEN (environment): must be a list of paths")


@pytest.mark.parametrize("rate", ["0", "-1", "nan", "many"])
def test_rate_limit_must_be_positive(rate: str) -> None:
    (problem,) = problems_of([], {"PW_RATE_LIMIT": rate, "PW_GW_PWD": "x"})
    assert problem.startswith("PW_RATE_LIMIT (environment): must be")
