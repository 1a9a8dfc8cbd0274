"""The settings table: every row's PW_* variable, flag and file key is accepted; --help,
--check-config and the README come from it; the TEDAPI/v1r settings are validated."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pypowerwall_server import cli
from pypowerwall_server.settings import ConfigError, Settings, load_settings
from pypowerwall_server.settings.advice import settings_warnings
from pypowerwall_server.settings.args import build_parser
from pypowerwall_server.settings.readme import README_START, readme_table, with_readme_table
from pypowerwall_server.settings.report import describe
from pypowerwall_server.settings.table import CONFIG_ENV, CONFIG_FLAG, SOURCE_ENV, TABLE, Setting
from pypowerwall_server.settings.tariff import Tariff

CONFIGURATION_DOC = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"
KEY_FILE = "v1r_key.pem"
GATEWAY_ENV = {"PW_GW_PWD": "GwPassword1"}  # a usable single gateway (TEDAPI) to add rows to

# A valid non-default value for every row: (text as PW_*/flag/file value, resolved value).
# "{key}" is the path of a readable key file made by the test.
SAMPLES: dict[str, tuple[str, Any]] = {
    "id": ("cabin", "cabin"),
    "name": ("Cabin", "Cabin"),
    "host": ("10.0.0.7:8443", "10.0.0.7:8443"),
    "gw_pwd": ("OtherGwPwd", "OtherGwPwd"),
    "password": ("customer-pw", "customer-pw"),
    "email": ("me@example.com", "me@example.com"),
    "authpath": ("/var/lib/auth", "/var/lib/auth"),
    "timezone": ("Europe/Berlin", "Europe/Berlin"),
    "siteid": ("42", 42),
    "cloud_mode": ("yes", True),
    "fleetapi": ("yes", True),
    "poll_interval": ("2.5", 2.5),
    "timeout": ("7", 7.0),
    "tedapi_api_version": ("V2026_06", "V2026_06"),
    "tedapi_auth_mode": ("bearer", "bearer"),
    "rsa_key_path": ("{key}", "{key}"),
    "wifi_host": ("192.168.91.1", "192.168.91.1"),
    "transports": ("tedapi", ("tedapi",)),
    "failover_after": ("5", 5),
    "recovery_probe": ("30", 30.0),
    "remote_interval": ("120", 120.0),
    "control_transport": ("v1r", "v1r"),
    "bind_address": ("127.0.0.1", "127.0.0.1"),
    "port": ("9001", 9001),
    "cors_origins": ("https://a.example", ("https://a.example",)),
    "debug": ("yes", True),
    "neg_solar": ("no", False),
    "site_zero_threshold": ("15", 15.0),
    "stale_after_intervals": ("4", 4.0),
    "mqtt_host": ("broker.lan", "broker.lan"),
    "mqtt_port": ("8883", 8883),
    "mqtt_username": ("pw-server", "pw-server"),
    "mqtt_password": ("mqtt-secret", "mqtt-secret"),
    "mqtt_tls": ("yes", True),
    "mqtt_control": ("yes", True),
    "mcp": ("yes", True),
    "mqtt_ca_file": ("{key}", "{key}"),
    "mqtt_prefix": ("pw2", "pw2"),
    "mqtt_discovery_prefix": ("ha", "ha"),
    "mqtt_min_interval": ("10", 10.0),
    # events and notifications
    "notify_urls": ("json://127.0.0.1:9/hook", "json://127.0.0.1:9/hook"),
    "notify_events": ("outages,alerts", ("outages", "alerts")),
    "notify_soe_low": ("15", 15.0),
    "notify_hold_down": ("30", 30.0),
    "allowed_hosts": ("powerwall.lan", ("powerwall.lan",)),
    "trusted_proxies": ("10.0.0.0/24", ("10.0.0.0/24",)),
    "read_token": ("read-token-0123456", "read-token-0123456"),
    "read_open": ("/aggregates", ("/aggregates",)),
    "rate_limit": ("50", 50.0),
    "max_connections": ("500", 500),
    "style": ("grafana-dark", "grafana-dark"),
    "frame_ancestors": ("https://grafana.example:3000", ("https://grafana.example:3000",)),
    "root_path": ("/powerwall", "/powerwall"),
    "https": ("yes", True),
    "https_port": ("9443", 9443),
    "tls_cert": ("{key}", "{key}"),
    "tls_key": ("{key}", "{key}"),
    "data_dir": ("/srv/pps", "/srv/pps"),
    "personal_data": ("yes", True),
    "history": ("no", False),
    "history_days": ("30", 30),
    "history_tariff": ({"import_price": 0.3}, Tariff(import_price=0.3)),
    "control_secret": ("s3cret-token-0123", "s3cret-token-0123"),
    "control_enabled": ("yes", True),
}
# What else a row needs to make a valid gateway (PW_* form; the file form uses the same keys)
COMPANIONS: dict[str, dict[str, str]] = {
    "cloud_mode": {"email": "me@example.com"},
    "fleetapi": {},
    "password": {"host": "10.0.0.7"},
    "wifi_host": {"rsa_key_path": "{key}", "gw_pwd": "GwPassword1"},
    "control_transport": {"rsa_key_path": "{key}", "gw_pwd": "GwPassword1"},
    "tls_cert": {"tls_key": "{key}"},
    "tls_key": {"tls_cert": "{key}"},
    "control_enabled": {"control_secret": "s3cret-token-0123"},
}


@pytest.fixture
def key_file(tmp_path: Path) -> str:
    path = tmp_path / KEY_FILE
    path.write_text("-----BEGIN PRIVATE KEY-----\n", encoding="utf-8")
    return str(path)


def _text(value: Any, key_file: str) -> Any:
    return value.replace("{key}", key_file) if isinstance(value, str) else value


def _value(settings: Settings, setting: Setting) -> Any:
    model = settings.server if setting.level == "server" else settings.gateways[0]
    value = getattr(model, setting.key)
    return value.get_secret_value() if setting.secret and value is not None else value


def _companions(setting: Setting, key_file: str) -> dict[str, str]:
    fallback = {} if setting.level == "server" else {"gw_pwd": "GwPassword1"}
    found = COMPANIONS.get(setting.key, fallback)
    return {key: _text(value, key_file) for key, value in found.items()}


def _usable_environ(setting: Setting, key_file: str) -> dict[str, str]:
    """PW_* variables that make a valid configuration around `setting`."""
    named = {_env_name(key): value for key, value in _companions(setting, key_file).items()}
    return {**GATEWAY_ENV, **named} if setting.level == "server" else named


def _env_name(key: str) -> str:
    (setting,) = [s for s in TABLE if s.key == key]
    return setting.row.env[0]


def test_every_row_has_a_sample() -> None:
    assert sorted(SAMPLES) == sorted(setting.key for setting in TABLE)


@pytest.mark.parametrize("setting", [s for s in TABLE if s.row.env], ids=lambda s: s.key)
def test_every_variable_is_read(setting: Setting, key_file: str) -> None:
    text, expected = (_text(part, key_file) for part in SAMPLES[setting.key])
    for name in setting.row.env:  # aliases too
        environ = {**_usable_environ(setting, key_file), name: text}
        assert _value(load_settings([], environ), setting) == expected, name


@pytest.mark.parametrize("setting", [s for s in TABLE if s.row.flag], ids=lambda s: s.key)
def test_every_flag_is_read(setting: Setting, key_file: str) -> None:
    text, expected = (_text(part, key_file) for part in SAMPLES[setting.key])
    assert setting.row.flag is not None
    argv = [setting.row.flag] if setting.switch else [setting.row.flag, text]
    assert _value(load_settings(argv, _usable_environ(setting, key_file)), setting) == expected


@pytest.mark.parametrize("setting", TABLE, ids=lambda s: s.key)
def test_every_file_key_is_read(setting: Setting, key_file: str, tmp_path: Path) -> None:
    text, expected = (_text(part, key_file) for part in SAMPLES[setting.key])
    value = [text] if isinstance(expected, tuple) else text  # a list in the file
    sections: list[dict[str, Any]] = []
    if setting.level == "server":
        gateway = {"id": "a", "gw_pwd": "GwPassword1"}
        server = _companions(setting, key_file)
        sections = [
            {"server": {**server, key: value}, "gateways": [gateway]} for key in setting.file_keys
        ]
    else:
        gateway = {"id": "a", **_companions(setting, key_file), setting.key: value}
        if setting.key == "id":
            gateway = {"gw_pwd": "GwPassword1", "id": value}
        sections.append({"gateways": [gateway]})
        if setting.level == "gateway-default":
            listed = {key: item for key, item in gateway.items() if key != setting.key}
            sections.append({"defaults": {setting.key: value}, "gateways": [listed]})
    for index, document in enumerate(sections):
        path = tmp_path / f"c{index}.json"
        path.write_text(json.dumps(document), encoding="utf-8")
        settings = load_settings(["--config", str(path)], {})
        assert _value(settings, setting) == expected, document


def test_help_comes_from_the_table() -> None:
    parser = build_parser()
    text = " ".join(parser.format_help().split())  # argparse wraps lines
    flags = {option for action in parser._actions for option in action.option_strings}
    table_flags = {setting.row.flag for setting in TABLE if setting.row.flag}
    actions = {"-h", "--help", "--demo", "--setup", "--check-config", "--probe", "--version"}
    actions.add("--notify-test")
    actions.add(CONFIG_FLAG)
    assert flags == table_flags | actions
    for setting in TABLE:
        for name in setting.row.env:
            assert name in text
        if setting.row.env or setting.row.flag:
            assert " ".join(setting.row.help.split()) in text, setting.key
    for name in (*SOURCE_ENV, CONFIG_ENV):
        assert name in text


def test_check_config_report_has_a_line_per_row() -> None:
    settings = load_settings([], {"PW_GW_PWD": "GwPassword1", "PW_TEDAPI_AUTH_MODE": "bearer"})
    text = describe(settings)
    for setting in TABLE:
        indent = "  " if setting.level == "server" else "    "
        assert f"\n{indent}{setting.key}: " in text or f"  - {setting.key}: " in text
    assert "    tedapi_auth_mode: bearer" in text
    assert "    tedapi_api_version: V2024_06" in text
    assert "    gw_pwd: ***" in text and "GwPassword1" not in text


def test_configuration_doc_settings_table_matches_the_table() -> None:
    doc = CONFIGURATION_DOC.read_text(encoding="utf-8")
    assert README_START in doc
    assert with_readme_table(doc) == doc, (
        "docs/configuration.md's settings table is stale: run "
        "python -m pypowerwall_server.settings.readme"
    )
    for setting in TABLE:
        assert f"`{setting.key}`" in readme_table()


def test_readme_without_markers_is_an_error() -> None:
    with pytest.raises(ValueError, match="settings-table"):
        with_readme_table("# no table here\n")


# --- the TEDAPI / v1r settings ------------------------------------------------------------


def test_v1r_settings_resolved_and_reported(key_file: str) -> None:
    environ = {
        "PW_HOST": "10.0.0.9",
        "PW_GW_PWD": "GwPassword1",
        "PW_RSA_KEY_PATH": key_file,
        "PW_WIFI_HOST": "192.168.91.1",
        "PW_TEDAPI_API_VERSION": "V2026_06",
    }
    settings = load_settings([], environ)
    gateway = settings.gateways[0]
    assert (gateway.rsa_key_path, gateway.wifi_host) == (key_file, "192.168.91.1")
    assert gateway.uses_tedapi
    text = describe(settings)
    assert f"    rsa_key_path: {key_file}" in text
    assert "    mode: tedapi (v1r: TEDAPI over the wired LAN)" in text


def _problems(argv: list[str], environ: dict[str, str]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_settings(argv, environ)
    return caught.value.problems


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        (
            {"PW_TEDAPI_AUTH_MODE": "token"},
            "PW_TEDAPI_AUTH_MODE (environment): must be basic or bearer, got 'token'",
        ),
        (
            {"PW_TEDAPI_API_VERSION": "V2025_01"},
            "PW_TEDAPI_API_VERSION (environment): must be V2024_06 or V2026_06, got 'V2025_01'",
        ),
        (
            {"PW_RSA_KEY_PATH": "/nonexistent/key.pem"},
            "PW_RSA_KEY_PATH (environment): must be the path of an existing, readable file "
            "(the v1r RSA private key PEM), got '/nonexistent/key.pem'",
        ),
        (
            {"PW_RSA_KEY_PATH": "/"},
            "PW_RSA_KEY_PATH (environment): must be the path of an existing, readable file "
            "(the v1r RSA private key PEM), got '/'",
        ),
        (
            {"PW_WIFI_HOST": "https://192.168.91.1/"},
            "PW_WIFI_HOST (environment): must be an IP address or host name, optionally with "
            ":port (e.g. 192.168.91.1), got 'https://192.168.91.1/'",
        ),
        (
            {"PW_WIFI_HOST": "192.168.91.1"},
            "PW_WIFI_HOST (environment): PW_WIFI_HOST/--wifi-host is used only in v1r mode; "
            "set PW_RSA_KEY_PATH/--rsa-key-path too or remove it",
        ),
    ],
)
def test_bad_tedapi_settings_named(environ: dict[str, str], expected: str) -> None:
    assert _problems([], {**GATEWAY_ENV, **environ}) == [expected]


def test_bad_values_in_a_gateway_list_name_the_key(tmp_path: Path) -> None:
    gateway = {"id": "a", "gw_pwd": "GwPassword1", "tedapi_auth_mode": "BASIC"}
    path = tmp_path / "g.yaml"
    path.write_text(json.dumps({"gateways": [gateway], "defaults": {"tedapi_api_version": 2}}))
    source = f"(file {path})"
    assert _problems(["--config", str(path)], {}) == [
        f"defaults.tedapi_api_version {source}: must be V2024_06 or V2026_06, got 2",
        f"gateways[0].tedapi_auth_mode {source}: must be basic or bearer, got 'BASIC'",
    ]


def test_v1r_settings_not_used_in_cloud_mode(key_file: str) -> None:
    environ = {"PW_EMAIL": "me@example.com", "PW_CLOUD_MODE": "yes", "PW_RSA_KEY_PATH": key_file}
    assert _problems([], environ) == [
        "PW_CLOUD_MODE (environment): PW_RSA_KEY_PATH/--rsa-key-path not used in cloud mode; "
        "remove them or turn PW_CLOUD_MODE/--cloud off"
    ]


@pytest.mark.parametrize(
    ("argv", "key"),
    [
        (["--tedapi-auth-mode", "jwt"], "--tedapi-auth-mode (command line)"),
        (["--tedapi-api-version", "latest"], "--tedapi-api-version (command line)"),
        (["--rsa-key-path", "missing.pem"], "--rsa-key-path (command line)"),
        (["--wifi-host", "a b"], "--wifi-host (command line)"),
    ],
)
def test_cli_exits_2_naming_the_key(
    argv: list[str], key: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PW_GW_PWD", "GwPassword1")
    assert cli.main([*argv, "--check-config"]) == cli.EXIT_CONFIG
    errors = capsys.readouterr().err.splitlines()
    assert len(errors) == 1 and errors[0].startswith(f"error: {key}: must be "), errors


def test_bearer_with_old_query_set_warns() -> None:
    settings = load_settings([], {**GATEWAY_ENV, "PW_TEDAPI_AUTH_MODE": "bearer"})
    assert settings_warnings(settings) == [
        "gateway 'default': tedapi_auth_mode bearer needs the signed queries of "
        "tedapi_api_version V2026_06; with V2024_06 the gateway may reject them"
    ]
    newer = {**GATEWAY_ENV, "PW_TEDAPI_AUTH_MODE": "bearer", "PW_TEDAPI_API_VERSION": "V2026_06"}
    assert settings_warnings(load_settings([], newer)) == []


@pytest.mark.parametrize(
    "setting", [s for s in TABLE if s.key.startswith("mqtt_")], ids=lambda s: s.key
)
def test_mqtt_settings_are_read_from_an_mqtt_section(
    setting: Setting, key_file: str, tmp_path: Path
) -> None:
    text, expected = (_text(part, key_file) for part in SAMPLES[setting.key])
    document = {
        "mqtt": {setting.key.removeprefix("mqtt_"): text},
        "gateways": [{"id": "a", "gw_pwd": "GwPassword1"}],
    }
    path = tmp_path / "c.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    assert _value(load_settings(["--config", str(path)], {}), setting) == expected
