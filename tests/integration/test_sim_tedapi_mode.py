"""The real, unmodified pypowerwall in TEDAPI mode (gateway password only, "full" mode)
against the served simulator: every read returns values that agree with each other and
with the simulated site's state at the same (frozen) instant."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from pypowerwall_server.simulator.config import SiteConfig
from pypowerwall_server.simulator.runner import RunningGateway, RunningSimulator, running_simulator
from pypowerwall_server.simulator.state import SiteState

from .conftest import direct_powerwall, frozen_gateway

pytestmark = pytest.mark.integration

BASE = SiteConfig(export_rule="pv_only", grid_charging=True)
SITES = {
    "pw2": replace(BASE, gateway_id="pw2"),
    "pw2x3": replace(
        BASE, gateway_id="pw2x3", powerwalls=3, gateway_serial="TG1111111111AA", gw_pwd="KLMNOPQRST"
    ),
    "pw3x3": replace(
        BASE,
        gateway_id="pw3x3",
        powerwalls=3,
        powerwall_kind="powerwall3",
        expansion_packs=1,
        gateway_serial="TG2222222222BB",
        powerwall_serial_prefix="TG3333333333",
    ),
    "faults": replace(BASE, gateway_id="faults", gateway_serial="TG4444444444CC"),
    "legacy": replace(
        BASE,
        gateway_id="legacy",
        gateway_serial="TG5555555555DD",
        firmware_version="23.36.1 aa269d35",
    ),
}


@pytest.fixture(scope="module")
def simulator() -> Iterator[RunningSimulator]:
    with running_simulator(list(SITES.values()), admin=False, app_factory=frozen_gateway) as sim:
        yield sim


def tedapi_client(gateway: RunningGateway, gw_pwd: str | None = None, **options: Any) -> Any:
    return direct_powerwall(
        gateway.host,
        gw_pwd=gateway.config.gw_pwd if gw_pwd is None else gw_pwd,
        password="",
        pwcacheexpire=60,
        **options,
    )


def state_of(gateway: RunningGateway) -> SiteState:
    return gateway.app.state()


@pytest.fixture(scope="module", params=["pw2", "pw2x3", "pw3x3"])
def site(request: pytest.FixtureRequest, simulator: RunningSimulator) -> tuple[Any, SiteState]:
    gateway = simulator.gateway(request.param)
    pw = tedapi_client(gateway)
    assert (pw.mode, pw.tedapi_mode) == ("local", "full")
    return pw, state_of(gateway)


def test_power_equals_site_meters(site: tuple[Any, SiteState]) -> None:
    pw, state = site
    power = pw.power()
    assert power == {
        "site": state.site.instant_power_w,
        "solar": state.solar.instant_power_w,
        "battery": state.battery.instant_power_w,
        "load": state.load.instant_power_w,
    }
    assert power["solar"] > 0  # frozen at noon
    assert (pw.site(), pw.solar(), pw.battery(), pw.load()) == tuple(
        power[k] for k in ("site", "solar", "battery", "load")
    )
    aggregates = pw.poll("/api/meters/aggregates")
    assert {k: aggregates[k]["instant_power"] for k in power} == power
    assert aggregates["site"]["instant_average_voltage"] == pytest.approx(
        state.site.instant_average_voltage_v
    )


def test_level_agrees_with_battery_blocks(site: tuple[Any, SiteState]) -> None:
    pw, state = site
    level = pw.level()
    assert level == pytest.approx(state.soe_raw_percent, abs=0.01)
    assert pw.level(scale=True) == pytest.approx((level - 5) / 0.95)
    blocks = pw.battery_blocks()
    assert sorted(blocks) == sorted(u.serial for u in state.powerwalls)
    remaining = sum(b["nominal_energy_remaining"] for b in blocks.values())
    full = sum(b["nominal_full_pack_energy"] for b in blocks.values())
    assert 100 * remaining / full == pytest.approx(level, abs=0.02)
    status = pw.system_status()
    assert status["nominal_energy_remaining"] == round(state.nominal_energy_remaining_wh)
    assert status["available_blocks"] == sum(u.kind != "expansion" for u in state.powerwalls)
    assert status["system_island_state"] == "SystemGridConnected"


def test_strings_sum_to_solar_power(site: tuple[Any, SiteState]) -> None:
    pw, state = site
    strings = pw.strings()
    assert strings
    total = sum(s["Power"] for s in strings.values())
    assert total == pytest.approx(state.solar.instant_power_w, rel=0.01, abs=10)
    connected = {s.letter for s in state.strings if s.connected}
    assert {name[0] for name, s in strings.items() if s["Connected"]} >= connected


def test_vitals_temps_alerts_and_fans(site: tuple[Any, SiteState]) -> None:
    pw, state = site
    vitals = pw.vitals()
    assert f"STSTSM--{state.gateway_din}" in vitals
    for unit in state.powerwalls:
        assert f"TEPOD--{unit.din}" in vitals
    temps = pw.temps()
    assert sorted(temps.values()) == sorted(u.temperature_c for u in state.powerwalls)
    assert set(pw.alerts()) >= {*state.alerts, "SystemConnectedToGrid"}
    fans = pw.tedapi.get_fan_speeds()
    assert len(fans) == sum(u.kind != "expansion" for u in state.powerwalls)


def test_grid_status_in_every_format(site: tuple[Any, SiteState]) -> None:
    pw, _ = site
    assert pw.grid_status("string") == "UP"
    assert pw.grid_status("numeric") == 1
    assert json.loads(pw.grid_status("json"))["grid_status"] == "SystemGridConnected"


def test_settings_and_identity(site: tuple[Any, SiteState]) -> None:
    pw, state = site
    assert pw.get_reserve(scale=False) == state.backup_reserve_raw_percent
    assert pw.get_reserve() == pytest.approx((state.backup_reserve_raw_percent - 5) / 0.95)
    assert pw.get_mode() == state.operating_mode
    assert pw.get_grid_charging() is state.grid_charging is True
    assert pw.get_grid_export() == state.export_rule == "pv_only"
    expected_hours = round(state.nominal_energy_remaining_wh) / state.load.instant_power_w
    assert pw.get_time_remaining() == pytest.approx(expected_hours)
    assert pw.version() == state.firmware_version
    assert pw.din() == state.gateway_din
    assert pw.site_name() == state.site_name
    hours = int(state.uptime_seconds // 3600)
    assert pw.uptime().startswith(f"{hours}h")
    status = pw.status()
    assert (status["din"], status["git_hash"]) == (state.gateway_din, state.git_hash)
    config = pw.tedapi.get_config()
    assert config["vin"] == state.gateway_din
    assert len(config["battery_blocks"]) == sum(u.kind != "expansion" for u in state.powerwalls)


def test_powerwall_3_is_detected_and_read_per_unit(simulator: RunningSimulator) -> None:
    gateway = simulator.gateway("pw3x3")
    pw = tedapi_client(gateway)
    state = state_of(gateway)
    assert pw.tedapi.pw3 is True
    vitals = pw.vitals()
    units = [u for u in state.powerwalls if u.kind == "powerwall3"]
    assert all(f"TEPINV--{u.din}" in vitals for u in units)
    expansion = next(u for u in state.powerwalls if u.kind == "expansion")
    block = pw.battery_blocks()[expansion.serial]
    assert block["Type"] == "BatteryExpansion"
    assert block["nominal_energy_remaining"] == pytest.approx(
        expansion.nominal_energy_remaining_wh, abs=1.0
    )


@pytest.mark.parametrize("refuse", [False, True])
def test_wrong_gateway_password_is_refused_quickly(
    simulator: RunningSimulator, refuse: bool
) -> None:
    gateway = simulator.gateway("faults")
    gateway.app.set_wrong_password_mode(refuse)
    try:
        started = time.monotonic()
        pw = tedapi_client(gateway, gw_pwd=gateway.config.gw_pwd if refuse else "WRONGWRONG")
        elapsed = time.monotonic() - started
    finally:
        gateway.app.set_wrong_password_mode(False)
    assert pw.client is None and not pw.is_connected()
    assert elapsed < 10.0


def test_grid_outage_reads_down(simulator: RunningSimulator) -> None:
    gateway = simulator.gateway("faults")
    gateway.app.set_grid_up(False)
    try:
        pw = tedapi_client(gateway)
        assert pw.grid_status("string") == "DOWN"
        assert pw.grid_status("numeric") == 0
        assert "SystemConnectedToGrid" not in pw.alerts()
        assert pw.power()["site"] == 0
    finally:
        gateway.app.set_grid_up(True)


def test_missing_powerwall_disappears_from_vitals(simulator: RunningSimulator) -> None:
    gateway = simulator.gateway("faults")
    gateway.app.set_missing_powerwall(1)
    try:
        state = state_of(gateway)
        gone, kept = state.powerwalls[1], state.powerwalls[0]
        pw = tedapi_client(gateway)
        vitals = pw.vitals()
        assert f"TETHC--{gone.din}" not in vitals and f"TETHC--{kept.din}" in vitals
        assert list(pw.battery_blocks()) == [kept.serial]
        assert pw.system_status()["available_blocks"] == 1
    finally:
        gateway.app.set_missing_powerwall(None)


@pytest.mark.parametrize("gateway_id", ["pw2", "pw3x3"])
def test_v2026_query_set_reads_the_same_site(simulator: RunningSimulator, gateway_id: str) -> None:
    gateway = simulator.gateway(gateway_id)
    state = state_of(gateway)
    pw = tedapi_client(gateway, tedapi_api_version="V2026_06")
    assert pw.power()["solar"] == state.solar.instant_power_w
    assert pw.level() == pytest.approx(state.soe_raw_percent, abs=0.01)
    assert sorted(pw.battery_blocks()) == sorted(u.serial for u in state.powerwalls)
    assert pw.tedapi.get_firmware_version() == state.firmware_version
    assert pw.uptime() is None  # V2026_06 cannot ask for SYNC_Uptime, as with real gateways


def test_legacy_firmware_serves_vitals_protobuf_in_local_mode(
    simulator: RunningSimulator, tmp_path: Path
) -> None:
    gateway = simulator.gateway("legacy")
    state = state_of(gateway)
    pw = direct_powerwall(
        gateway.host,
        password=gateway.config.customer_password,
        email=gateway.config.customer_email,
        authpath=str(tmp_path),
        cachefile=str(tmp_path / ".powerwall"),
    )
    assert (pw.mode, pw.tedapi_mode) == ("local", "off")
    vitals = pw.vitals()
    assert f"STSTSM--{state.gateway_din}" in vitals
    temps = pw.temps()
    assert sorted(temps.values()) == sorted(u.temperature_c for u in state.powerwalls)
    total = sum(s["Power"] for s in pw.strings().values())
    assert total == pytest.approx(state.solar.instant_power_w, abs=2)
