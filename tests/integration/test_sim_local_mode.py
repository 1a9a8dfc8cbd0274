"""The real, unmodified pypowerwall in local mode (customer password over HTTPS) against the
served simulator: every read it offers returns consistent values, and control works."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pypowerwall
import pytest
from pypowerwall.local.exceptions import LoginError

from pypowerwall_server.gateway.tls import honor_session_verify
from pypowerwall_server.simulator.config import SiteConfig
from pypowerwall_server.simulator.runner import RunningGateway, running_simulator

pytestmark = pytest.mark.integration

NIGHT_PDT = 1749970800.0 + 2 * 3600.0  # 2025-06-15 02:00 America/Los_Angeles: no sun
CONFIG = SiteConfig(sim_start=NIGHT_PDT, initial_soe_raw_percent=60.0)


def connect(gateway: RunningGateway, auth_dir: Path, password: str | None = None) -> Any:
    honor_session_verify()
    return pypowerwall.Powerwall(
        host=gateway.host,
        password=gateway.config.customer_password if password is None else password,
        email=gateway.config.customer_email,
        timezone=gateway.config.timezone,
        pwcacheexpire=60,  # one answer per path, so calls can be compared with each other
        timeout=10,
        authpath=str(auth_dir),
        cachefile=str(auth_dir / ".powerwall"),
        failover=False,
        auto_select=False,
    )


@pytest.fixture
def gateway() -> Iterator[RunningGateway]:
    with running_simulator([CONFIG], admin=False) as simulator:
        yield simulator.gateways[0]


@pytest.fixture
def pw(gateway: RunningGateway, tmp_path: Path) -> Any:
    client = connect(gateway, tmp_path)
    assert client.mode == "local" and client.tedapi_mode == "off"
    return client


def test_power_readings_match_aggregates_and_balance(pw: Any) -> None:
    aggregates = pw.poll("/api/meters/aggregates")
    power = pw.power()
    assert power == {name: aggregates[name]["instant_power"] for name in power}
    assert power["load"] == power["solar"] + power["battery"] + power["site"]
    assert power["solar"] == 0 and power["battery"] > 0  # night: the battery carries the house
    assert (pw.site(), pw.solar(), pw.battery(), pw.load()) == (
        power["site"],
        power["solar"],
        power["battery"],
        power["load"],
    )
    assert pw.battery(verbose=True)["num_meters_aggregated"] == 2


def test_level_agrees_with_battery_blocks(pw: Any) -> None:
    level = pw.level()
    assert 55.0 < level < 65.0
    assert pw.level(scale=True) == pytest.approx((level - 5) / 0.95)
    blocks = pw.battery_blocks()
    assert len(blocks) == 2
    remaining = sum(b["nominal_energy_remaining"] for b in blocks.values())
    full = sum(b["nominal_full_pack_energy"] for b in blocks.values())
    assert level == pytest.approx(100 * remaining / full, abs=0.05)
    status = pw.system_status()
    assert [b["PackageSerialNumber"] for b in status["battery_blocks"]] == list(blocks)
    assert status["nominal_energy_remaining"] == pytest.approx(remaining, abs=2)


def test_no_vitals_on_new_firmware_so_strings_come_from_solar_powerwall(pw: Any) -> None:
    assert pw.version() == CONFIG.firmware_version
    assert pw.vitals() is None  # 24.44: /api/devices/vitals is 404 and pypowerwall gives up
    assert pw.temps() == {}
    strings = pw.strings()
    assert sorted(strings) == ["A", "B", "C", "D"]
    assert all(s["Connected"] and s["Power"] == 0 for s in strings.values())


def test_grid_status_in_every_format(pw: Any) -> None:
    assert pw.grid_status("string") == "UP"
    assert pw.grid_status("numeric") == 1
    assert json.loads(pw.grid_status("json"))["grid_status"] == "SystemGridConnected"
    assert "SystemConnectedToGrid" in pw.alerts()


def test_identity_and_settings(pw: Any, gateway: RunningGateway) -> None:
    assert pw.din() == gateway.config.gateway_din
    assert pw.site_name() == gateway.config.site_name
    assert pw.uptime().endswith("s") and "h" in pw.uptime()
    assert pw.status()["version"] == gateway.config.firmware_version
    assert pw.get_mode() == "self_consumption"
    assert pw.get_reserve(scale=False) == gateway.config.backup_reserve_raw_percent
    assert pw.get_reserve() == pytest.approx((gateway.config.backup_reserve_raw_percent - 5) / 0.95)
    remaining = pw.system_status()["nominal_energy_remaining"]
    assert pw.get_time_remaining() == pytest.approx(remaining / pw.load())


def test_set_reserve_and_mode_change_settings_and_battery(pw: Any, gateway: RunningGateway) -> None:
    assert pw.set_reserve(100) is not None
    assert pw.get_reserve(scale=False) == 100.0
    aggregates = pw.poll("/api/meters/aggregates", force=True)
    assert aggregates["battery"]["instant_power"] == 0  # nothing may go below the reserve
    assert aggregates["site"]["instant_power"] == aggregates["load"]["instant_power"]

    gateway.app.set_grid_charging(True)
    assert pw.set_mode("backup") is not None
    assert pw.get_mode() == "backup"
    assert pw.get_reserve(scale=False) == 100.0  # pypowerwall back-fills the reserve
    assert pw.poll("/api/meters/aggregates", force=True)["battery"]["instant_power"] < 0


def test_grid_outage_seen_through_pypowerwall(pw: Any, gateway: RunningGateway) -> None:
    gateway.app.set_grid_up(False)
    assert pw.grid_status("string") == "DOWN"
    assert pw.grid_status("numeric") == 0
    assert pw.poll("/api/meters/aggregates", force=True)["site"]["instant_power"] == 0


def test_wrong_customer_password_is_refused(gateway: RunningGateway, tmp_path: Path) -> None:
    # pypowerwall 0.22.2 logs in lazily, on the first 401, so construction succeeds and
    # the first authenticated read fails.
    pw = connect(gateway, tmp_path, password="not-the-password")
    with pytest.raises(LoginError):
        pw.power()
    with pytest.raises(LoginError):
        pw.level()


def test_password_change_ends_an_existing_session(pw: Any, gateway: RunningGateway) -> None:
    assert pw.level() is not None
    gateway.app.set_wrong_password_mode(True)
    with pytest.raises(LoginError):
        pw.poll("/api/system_status/soe", force=True)


def test_old_firmware_serves_protobuf_vitals_in_local_mode(tmp_path: Path) -> None:
    old = replace(CONFIG, firmware_version="23.36.1 abcdef12")
    with running_simulator([old], admin=False) as simulator:
        gateway = simulator.gateways[0]
        pw = connect(gateway, tmp_path)
        vitals = pw.vitals()
        serials = [unit.serial for unit in gateway.app.state().powerwalls]
        assert [d for d in vitals if d.startswith("TETHC--")] == [
            f"TETHC--{CONFIG.powerwall_part_number}--{serial}" for serial in serials
        ]
        temps = pw.temps()
        assert len(temps) == 2 and all(5.0 < t < 50.0 for t in temps.values())
        blocks = pw.battery_blocks()
        assert [blocks[serial]["temperature"] for serial in serials] == list(temps.values())
