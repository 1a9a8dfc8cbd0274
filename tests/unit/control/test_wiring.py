"""How settings become control's targets and on/off state."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from pypowerwall_server.control.commands import SetReserve
from pypowerwall_server.control.limits import NoWritePath, WriteTransport
from pypowerwall_server.control.readback import ControlState
from pypowerwall_server.control.wiring import ControlAccess, build_control, control_target
from pypowerwall_server.control.writes import plan_write
from pypowerwall_server.gateway.supervisor import GatewaySupervisor
from pypowerwall_server.gateway_state import GatewayState
from pypowerwall_server.hub import Hub
from pypowerwall_server.settings import GatewayConfig, ServerConfig, Settings


@pytest.fixture
def key_file(tmp_path: Path) -> str:
    path = tmp_path / "key.pem"
    path.write_text("-----BEGIN PRIVATE KEY-----\n")
    return str(path)


def test_each_mode_has_its_write_transport(key_file: str) -> None:
    tedapi = GatewayConfig(id="a", gw_pwd=SecretStr("pw"))
    local = GatewayConfig(id="b", host="10.0.0.2", password=SecretStr("pw"))
    v1r = GatewayConfig(id="c", host="10.0.0.3", password=SecretStr("pw"), rsa_key_path=key_file)
    fleet = GatewayConfig(id="d", fleetapi=True, siteid=7)
    cloud = GatewayConfig(id="e", cloud_mode=True, email="me@example.com")
    assert [control_target(g).transport for g in (tedapi, local, v1r, fleet, cloud)] == [
        None,
        None,
        WriteTransport.V1R,
        WriteTransport.FLEETAPI,
        WriteTransport.CLOUD,
    ]
    assert control_target(tedapi).read_mode == "tedapi"


def _control(server: ServerConfig, *gateways: GatewayConfig) -> ControlAccess:
    settings = Settings(server=server, gateways=gateways)
    states = [GatewayState(g.id, g.name, g.mode, g.poll_interval) for g in gateways]
    supervisor = GatewaySupervisor(gateways, Hub(states, 3), lambda _: None)  # never started
    return build_control(settings, supervisor)


def _two(key_file: str) -> tuple[GatewayConfig, GatewayConfig]:
    return (
        GatewayConfig(id="a", gw_pwd=SecretStr("pw")),
        GatewayConfig(id="b", host="10.0.0.3", password=SecretStr("pw"), rsa_key_path=key_file),
    )


def test_control_is_off_without_a_secret_and_the_overview_holds_no_secret(key_file: str) -> None:
    off = _control(ServerConfig(), *_two(key_file))
    assert off.enabled is False and off.overview()["enabled"] is False
    on = _control(ServerConfig(control_secret=SecretStr("s3cret-value-16chars")), *_two(key_file))
    overview = on.overview()
    assert overview == {
        "enabled": True,
        "gateways": {
            "a": {"transport": None, "controls": []},
            "b": {
                "transport": "v1r",
                "controls": sorted(
                    [
                        "dispatch",
                        "resume",
                        "grid_charging",
                        "grid_export",
                        "max_backup",
                        "mode",
                        "off_grid",
                        "reconnect",
                        "reserve",
                        "reserve_hold",
                    ]
                ),
            },
        },
    }
    assert "s3cret-value" not in str(overview)


def test_a_switched_off_secret_refuses_writes(key_file: str) -> None:
    server = ServerConfig(control_secret=SecretStr("s3cret-value-16chars"), control_enabled=False)
    assert _control(server, *_two(key_file)).enabled is False


def test_a_remote_writer_of_a_gateway_read_another_way_needs_its_siteid() -> None:
    chained = GatewayConfig(id="a", gw_pwd=SecretStr("pw"), transports=("tedapi", "fleetapi"))
    target = control_target(chained)
    assert target.transport is WriteTransport.FLEETAPI
    assert target.unsafe is not None and "siteid" in target.unsafe
    refusal = plan_write(target, SetReserve(30), ControlState())
    assert isinstance(refusal, NoWritePath) and "fleetapi while tedapi reads" in refusal.message
    with_site = chained.model_copy(update={"siteid": 7})
    assert control_target(with_site).unsafe is None
    # read and written over FleetAPI alike: the site it reads is the one it writes
    assert control_target(GatewayConfig(id="b", fleetapi=True)).unsafe is None
    overview = _control(ServerConfig(control_secret=SecretStr("s3cret-value-16chars")), chained)
    assert overview.overview()["gateways"]["a"] == {"transport": "fleetapi", "controls": []}
