"""The real, unmodified pypowerwall in v1r mode (customer password + RSA-4096 key, the
Powerwall 3 wired-LAN transport) against the served simulator: reads, and every write
pypowerwall 0.22 makes over v1r, each checked against the simulator's own settings (admin
API) and the site's behaviour; a wrong or unverified key is refused; a second gateway in
the same simulator never changes."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import requests

from pypowerwall_server.simulator.config import SiteConfig
from pypowerwall_server.simulator.faults import Fault
from pypowerwall_server.simulator.gateway import SimulatedGateway
from pypowerwall_server.simulator.runner import RunningGateway, RunningSimulator, running_simulator
from tests.unit.simulator.sim_admin_client import (
    ManualClock,
    admin,
    admin_call,
    settings,
    written,
)
from tests.unit.simulator.v1r_signing import public_pem, rsa_key, write_private_key

from .conftest import direct_powerwall

pytestmark = pytest.mark.integration

NOON = 1782070200.0  # 2026-06-21 12:30 PDT: the sun is up
PW3 = dict(powerwalls=1, powerwall_kind="powerwall3", sim_start=NOON, initial_soe_raw_percent=50.0)
LAN = replace(SiteConfig.for_index(0), gateway_id="lan", **PW3)  # type: ignore[arg-type]
OTHER = replace(SiteConfig.for_index(1), gateway_id="other", **PW3)  # type: ignore[arg-type]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def sim(clock: ManualClock) -> Iterator[RunningSimulator]:
    def factory(config: SiteConfig) -> SimulatedGateway:
        return SimulatedGateway(config, clock=clock)

    with running_simulator([LAN, OTHER], app_factory=factory) as running:
        yield running


def register(sim: RunningSimulator, gateway_id: str, key_name: str, verified: bool = True) -> None:
    body = {"public_key": public_pem(rsa_key(key_name)).decode(), "verified": verified}
    assert admin(sim, "POST", f"/gateways/{gateway_id}/v1r/keys", body)["key"]["state"] == (
        "verified" if verified else "pending"
    )


def v1r_client(gateway: RunningGateway, key_file: Path) -> Any:
    """pypowerwall as a v1r user sets it up: host, customer password, rsa_key_path."""
    return direct_powerwall(
        gateway.host,
        password=gateway.config.customer_password,
        rsa_key_path=str(key_file),
        pwcacheexpire=0,
    )


@pytest.fixture
def owner_key(tmp_path: Path) -> Path:
    return write_private_key(rsa_key("owner"), tmp_path / "tedapi_rsa_private.pem")


@pytest.fixture
def pw(sim: RunningSimulator, owner_key: Path) -> Any:
    register(sim, "lan", "owner")
    client = v1r_client(sim.gateway("lan"), owner_key)
    assert (client.mode, client.tedapi_mode) == ("local", "v1r")
    return client


def test_reads_over_v1r_agree_with_the_site(sim: RunningSimulator, pw: Any) -> None:
    state = sim.gateway("lan").app.state()
    assert pw.din() == state.gateway_din
    assert pw.get_reserve() == pytest.approx(20.0)  # raw 24 on the gateway
    assert pw.get_mode() == "self_consumption"
    assert pw.get_grid_charging() is False
    assert pw.get_grid_export() == "battery_ok"
    assert pw.grid_status() == "UP"
    assert pw.level(scale=False) == pytest.approx(state.soe_raw_percent, abs=0.01)
    assert pw.power()["battery"] == state.battery.instant_power_w
    assert pw.version() == state.firmware_version
    assert sim.request_counts("lan")["/tedapi/v1r"] > 0
    assert "/tedapi/v1r" not in sim.request_counts("other")


def test_every_v1r_write_lands_in_the_site_and_the_battery_follows(
    sim: RunningSimulator, pw: Any, clock: ManualClock
) -> None:
    untouched = written(sim, "other")

    assert pw.set_reserve(20) is not None
    assert settings(sim, "lan")["backup_reserve_raw_percent"] == pytest.approx(24.0)
    state = sim.gateway("lan").app.state()
    assert state.site.instant_power_w == 0  # self-consumption: the surplus alone charges

    pw.set_reserve(80)
    now = settings(sim, "lan")
    assert now["backup_reserve_raw_percent"] == pytest.approx(81.0)
    assert now["backup_reserve_percent"] == pytest.approx(80.0)
    assert pw.get_reserve() == pytest.approx(80.0)
    assert now["soe_raw_percent"] < 81.0  # the reserve is now above the charge:
    state = sim.gateway("lan").app.state()
    assert state.battery.instant_power_w == -state.solar.instant_power_w  # all the sun in
    assert state.site.instant_power_w == state.load.instant_power_w > 0  # grid feeds the house
    assert pw.power()["battery"] == state.battery.instant_power_w
    clock.advance(600)
    assert settings(sim, "lan")["soe_raw_percent"] > now["soe_raw_percent"]

    pw.set_reserve(100)
    assert settings(sim, "lan")["backup_reserve_raw_percent"] == pytest.approx(100.0)
    assert pw.get_reserve() == pytest.approx(100.0)

    pw.set_mode("backup")
    assert settings(sim, "lan")["operating_mode"] == "backup"
    assert pw.get_mode() == "backup"
    pw.set_mode("self_consumption")
    assert settings(sim, "lan")["operating_mode"] == "self_consumption"

    assert pw.set_grid_charging(True) is True
    now = settings(sim, "lan")
    assert now["grid_charging"] is True and pw.get_grid_charging() is True
    state = sim.gateway("lan").app.state()
    assert -state.battery.instant_power_w > state.solar.instant_power_w  # the grid helps
    pw.set_grid_charging(False)
    assert settings(sim, "lan")["grid_charging"] is False

    assert pw.set_grid_export("never") is True
    assert settings(sim, "lan")["export_rule"] == "never" and pw.get_grid_export() == "never"
    pw.set_grid_export("pv_only")
    assert settings(sim, "lan")["export_rule"] == "pv_only"

    assert written(sim, "other") == untouched
    assert "/tedapi/v1r" not in sim.request_counts("other")


def test_off_grid_and_reconnect_over_v1r(sim: RunningSimulator, pw: Any) -> None:
    assert pw.go_off_grid() is None  # refused without confirm: nothing sent
    assert settings(sim, "lan")["off_grid"] is False
    assert pw.go_off_grid(confirm=True)["result"] == 1
    now = settings(sim, "lan")
    assert now["off_grid"] is True and now["grid_status"] == "SystemIslandedActive"
    assert pw.grid_status() == "DOWN"
    assert pw.power()["site"] == 0
    assert pw.reconnect_grid()["result"] == 1
    assert settings(sim, "lan")["off_grid"] is False and pw.grid_status() == "UP"
    assert settings(sim, "other")["off_grid"] is False


def test_max_backup_over_v1r(sim: RunningSimulator, pw: Any) -> None:
    assert pw.schedule_max_backup(600) is True
    event = settings(sim, "lan")["manual_backup"]
    assert event["duration_seconds"] == 600 and event["active"] is True
    assert settings(sim, "lan")["battery_power_w"] < 0  # held: refilled by the sun
    assert pw.get_backup_events()["manual_backup"]["active"] is True
    assert pw.cancel_max_backup() is True
    assert settings(sim, "lan")["manual_backup"] is None


def test_a_wrong_key_is_refused_and_changes_nothing(sim: RunningSimulator, tmp_path: Path) -> None:
    register(sim, "lan", "owner")
    before = written(sim, "lan")
    stranger = write_private_key(rsa_key("stranger"), tmp_path / "stranger.pem")
    pw = v1r_client(sim.gateway("lan"), stranger)
    assert pw.tedapi.v1r_transport.key_unknown is True  # "key not recognized" at connect
    assert pw.get_reserve() is None
    assert pw.set_reserve(90) == {"error": "Failed to write config"}
    assert pw.go_off_grid(confirm=True) is None
    assert written(sim, "lan") == before


def test_an_unverified_key_reads_nothing_until_verified(
    sim: RunningSimulator, owner_key: Path
) -> None:
    register(sim, "lan", "owner", verified=False)
    pw = v1r_client(sim.gateway("lan"), owner_key)
    assert pw.tedapi.v1r_transport.pending_verification is True
    assert pw.get_reserve() is None
    register(sim, "lan", "owner")  # the on/off toggle done
    assert pw.get_reserve(force=True) == pytest.approx(20.0)


def test_keys_are_per_gateway(sim: RunningSimulator, owner_key: Path) -> None:
    register(sim, "lan", "owner")
    pw = v1r_client(sim.gateway("other"), owner_key)
    assert pw.tedapi.v1r_transport.key_unknown is True
    assert pw.set_reserve(90) == {"error": "Failed to write config"}
    assert settings(sim, "other")["backup_reserve_raw_percent"] == OTHER.backup_reserve_raw_percent


def test_unsigned_v1r_post_gets_unknown_key_fault(sim: RunningSimulator) -> None:
    from pypowerwall.tedapi.protobuf.V2024_06 import tedapi_combined_pb2 as combined_pb2

    gateway = sim.gateway("lan")
    session = requests.Session()
    session.verify = False
    login = session.post(
        f"https://{gateway.host}/api/login/Basic",
        json={"username": "customer", "password": gateway.config.customer_password},
        timeout=5,
    )
    assert login.status_code == 200
    message = combined_pb2.RoutableMessage()
    message.to_destination.domain = combined_pb2.DOMAIN_ENERGY_DEVICE
    message.protobuf_message_as_bytes = b"\x08\x01"
    answer = session.post(
        f"https://{gateway.host}/tedapi/v1r", data=message.SerializeToString(), timeout=5
    )
    reply = combined_pb2.RoutableMessage()
    reply.ParseFromString(answer.content)
    assert answer.status_code == 200
    assert (
        reply.signed_message_status.message_fault == combined_pb2.MESSAGEFAULT_ERROR_UNKNOWN_KEY_ID
    )


def test_admin_lists_and_removes_keys(sim: RunningSimulator) -> None:
    register(sim, "lan", "owner")
    (key,) = admin(sim, "GET", "/gateways/lan/v1r/keys")["keys"]
    assert key["state"] == "verified" and len(key["fingerprint"]) == 64
    assert admin(sim, "DELETE", f"/gateways/lan/v1r/keys/{key['fingerprint']}") == {"removed": 1}
    assert admin(sim, "GET", "/gateways/lan/v1r/keys") == {"keys": []}
    bad = admin_call(sim, "POST", "/gateways/lan/v1r/keys", {"public_key": "not a key"})
    assert bad.status_code == 400 and "PEM" in bad.json()["error"]


@pytest.fixture
def wifi_sim(clock: ManualClock) -> Iterator[RunningSimulator]:
    def factory(config: SiteConfig) -> SimulatedGateway:
        return SimulatedGateway(config, clock=clock)

    with running_simulator([LAN], app_factory=factory, wifi=True) as running:
        yield running


@pytest.mark.parametrize("signed_wifi", [True, False])
def test_lan_down_the_wifi_port_serves_the_same_site(
    wifi_sim: RunningSimulator, owner_key: Path, signed_wifi: bool
) -> None:
    """A Powerwall 3 read over the wired LAN (v1r) with its Wi-Fi access point as the
    fallback: pypowerwall's own LAN -> Wi-Fi failover against one site on two ports."""
    import pypowerwall

    from pypowerwall_server.gateway.tls import honor_session_verify

    register(wifi_sim, "lan", "owner")
    gateway = wifi_sim.gateway("lan")
    assert gateway.wifi_host is not None and gateway.wifi_host != gateway.host
    honor_session_verify()
    pw = pypowerwall.Powerwall(
        host=gateway.host,
        password=gateway.config.customer_password,
        gw_pwd=gateway.config.gw_pwd,
        rsa_key_path=str(owner_key),
        wifi_host=gateway.wifi_host,
        wifi_v1r_fallback=signed_wifi,
        pwcacheexpire=0,
        timeout=5,
    )
    level = pw.level()  # the sites' clock stands still: the same value after the switch
    assert pw.tedapi_mode == "v1r" and level is not None
    wifi_sim.set_fault("lan", Fault("refused"))  # the wired LAN goes away
    levels = [pw.level() for _ in range(5)]  # three failures trip pypowerwall's failover
    assert pw.tedapi.lan_failed is True
    assert levels[-1] == pytest.approx(level)
    wifi_paths = wifi_sim.request_counts("lan", wifi=True)
    if signed_wifi:  # signed v1r over Wi-Fi: writes keep working
        assert wifi_paths.get("/tedapi/v1r", 0) > 0
        pw.set_reserve(70)
        assert settings(wifi_sim, "lan")["backup_reserve_raw_percent"] == pytest.approx(71.5)
    else:  # the Wi-Fi TEDAPI (gateway password): reads only
        assert wifi_paths.get("/tedapi/v1", 0) > 0 and "/tedapi/v1r" not in wifi_paths
    refused = admin_call(wifi_sim, "POST", "/gateways/lan/wifi/faults", {"kind": "grid_outage"})
    assert refused.status_code == 400  # site faults go on the gateway, not a port
