"""Settings of ordered transports: each transport's credentials are checked, the
CLI exits 2 naming the key, and --check-config shows the failover order."""

from __future__ import annotations

from pathlib import Path

import pytest

from pypowerwall_server.settings import ConfigError, load_settings
from tests.unit.test_cli_config_errors import assert_config_error, run_cli, write


def test_transports_from_the_environment_keep_order_and_defaults() -> None:
    environ = {"PW_TRANSPORTS": "tedapi, fleetapi", "PW_GW_PWD": "GwPassword1"}
    gateway = load_settings([], environ).gateways[0]
    assert gateway.transports == ("tedapi", "fleetapi")
    assert gateway.mode == "tedapi"  # the preferred transport's
    assert (gateway.failover_after, gateway.recovery_probe, gateway.remote_interval) == (3, 60, 60)


def test_single_mode_configuration_has_no_transport_list() -> None:
    gateway = load_settings([], {"PW_GW_PWD": "GwPassword1"}).gateways[0]
    assert gateway.transports == () and gateway.mode == "tedapi"


@pytest.mark.parametrize(
    ("listed", "missing"),
    [
        ("tedapi,cloud", "transport cloud needs PW_EMAIL/--email"),
        ("local", "transport local needs PW_HOST/--host, PW_PASSWORD/--password"),
        ("v1r", "transport v1r needs PW_HOST/--host, PW_PASSWORD/--password, PW_RSA_KEY_PATH"),
    ],
)
def test_missing_credentials_of_a_transport_are_named(listed: str, missing: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings([], {"PW_TRANSPORTS": listed, "PW_GW_PWD": "GwPassword1"})
    assert any(missing in problem for problem in raised.value.problems), raised.value.problems


def test_cli_exits_2_naming_the_transport_key(tmp_path: Path) -> None:
    config = write(tmp_path, "c.yaml", "gateways:\n  - id: home\n    transports: [tedapi, cloud]\n")
    run = run_cli(["--config", config], {}, tmp_path)
    assert all(line.startswith("error: gateways[0].transports (file ") for line in run.errors)
    assert_config_error(
        run,
        "transport tedapi needs gateways[0].gw_pwd",
        "transport cloud needs gateways[0].email",
    )


def test_unknown_or_repeated_transport_is_an_error() -> None:
    for listed in ("tedapi,smoke-signals", "tedapi,tedapi"):
        with pytest.raises(ConfigError) as raised:
            load_settings([], {"PW_TRANSPORTS": listed, "PW_GW_PWD": "GwPassword1"})
        assert raised.value.problems[0].startswith("PW_TRANSPORTS (environment): must be")


def test_check_config_shows_the_failover_order(tmp_path: Path) -> None:
    run = run_cli(
        ["--check-config", "--transports", "tedapi,fleetapi", "--gw-pwd", "GwSecret0123"],
        {},
        tmp_path,
    )
    assert run.code == 0, run.stderr
    assert "failover order (first preferred):" in run.stdout
    assert "1. tedapi: uses gw_pwd" in run.stdout
    assert "2. fleetapi: uses authpath with .pypowerwall.fleetapi" in run.stdout
    assert "GwSecret0123" not in run.stdout
