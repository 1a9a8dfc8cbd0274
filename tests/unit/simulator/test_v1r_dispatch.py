"""Battery dispatch on the simulated gateway, sent by pypowerwall's own v1r transport (its
signed RoutableMessage, handed to SimulatedGateway.handle instead of over HTTPS): the
library takes the simulator's acknowledgement, the battery follows the dispatch, it ends by
itself on the site's clock, a resume ends it early, and a bad request is refused as a
gateway would refuse it."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from pypowerwall.tedapi.protobuf.V2024_06 import tedapi_combined_pb2 as combined_pb2
from pypowerwall.tedapi.tedapi_v1r import TEDAPIv1r

from pypowerwall_server.simulator.gateway import SimulatedGateway
from pypowerwall_server.simulator.interface import SimRequest

from . import test_v1r
from .sim_admin_client import ManualClock
from .v1r_signing import public_pem, rsa_key, write_private_key

# On grid in backup mode the battery never discharges by itself.
SITE = replace(test_v1r.SITE, operating_mode="backup")
DIN = SITE.gateway_din


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def gateway(clock: ManualClock) -> SimulatedGateway:
    gw = SimulatedGateway(SITE, clock=clock)
    gw.register_v1r_key(public_pem(rsa_key("paired")))
    return gw


@pytest.fixture
def library(gateway: SimulatedGateway, tmp_path: Path) -> TEDAPIv1r:
    """pypowerwall's v1r transport; only the HTTPS hop is replaced by a direct call."""
    key_file = write_private_key(rsa_key("paired"), tmp_path / "key.pem")
    client = TEDAPIv1r(host="127.0.0.1:1", password="x", rsa_key_path=str(key_file))

    def post_v1r(payload: bytes, din: str) -> bytes:
        body = client._signed_payload(payload, din)
        answer = gateway.handle(SimRequest("POST", "/tedapi/v1r", "", _login(gateway), body))
        message = combined_pb2.RoutableMessage()
        message.ParseFromString(answer.body)
        return bytes(message.protobuf_message_as_bytes)

    client.post_v1r = post_v1r  # type: ignore[method-assign]
    return client


def _login(gw: SimulatedGateway) -> dict[str, str]:
    body = json.dumps({"username": "customer", "password": SITE.customer_password}).encode()
    answer = gw.handle(SimRequest("POST", "/api/login/Basic", "", {}, body))
    return {"authorization": f"Bearer {json.loads(answer.body)['token']}"}


def battery_w(gateway: SimulatedGateway) -> float:
    return gateway.state().battery.instant_power_w


def test_a_discharge_is_followed_until_it_ends_by_itself(
    gateway: SimulatedGateway, library: TEDAPIv1r, clock: ManualClock
) -> None:
    assert battery_w(gateway) <= 0  # backup mode at noon: charging or idle
    assert library.dispatch_battery_power(DIN, 3000, 60) == {
        "power_watts": 3000.0,
        "duration_seconds": 60,
    }
    assert battery_w(gateway) == pytest.approx(3000, abs=50)
    state = gateway.state()
    load, solar = state.load.instant_power_w, state.solar.instant_power_w
    assert state.site.instant_power_w == pytest.approx(load - solar - 3000, abs=50)
    clock.advance(30)
    assert battery_w(gateway) == pytest.approx(3000, abs=50)
    clock.advance(31)
    assert battery_w(gateway) <= 0  # over: backup mode again


def test_a_resume_ends_it_early_and_a_charge_draws_from_the_grid(
    gateway: SimulatedGateway, library: TEDAPIv1r, clock: ManualClock
) -> None:
    assert library.dispatch_battery_power(DIN, 2500, 600) is not None
    assert battery_w(gateway) == pytest.approx(2500, abs=50)
    assert library.resume_battery_operation(DIN) == {"resume_battery_operation": True}
    assert battery_w(gateway) <= 0
    assert library.dispatch_battery_power(DIN, -4000, 600) is not None
    assert battery_w(gateway) == pytest.approx(-4000, abs=50)
    assert library.resume_battery_operation(DIN) is not None  # also without a dispatch
    assert library.resume_battery_operation(DIN) is not None


def test_a_discharge_drains_below_the_reserve(
    gateway: SimulatedGateway, library: TEDAPIv1r, clock: ManualClock
) -> None:
    gateway.set_operation("self_consumption", 100.0)  # reserve above the charge
    start = gateway.state().soe_raw_percent
    library.dispatch_battery_power(DIN, 5000, 3600)
    clock.advance(1800)
    assert gateway.state().soe_raw_percent < start - 5


def test_a_dispatch_without_power_or_duration_is_refused(
    gateway: SimulatedGateway, library: TEDAPIv1r
) -> None:
    request = combined_pb2.MessageEnvelope()
    request.recipient.din = DIN
    request.teg.dispatch_battery_power_request.SetInParent()  # neither part
    reply = combined_pb2.MessageEnvelope()
    reply.ParseFromString(library.post_v1r(request.SerializeToString(), DIN))
    assert reply.common.error_response.status.code == 3
    assert battery_w(gateway) <= 0
