"""v1r on the simulated gateway, driven through SimulatedGateway.handle: the signature check
(what is accepted, what is refused and with which fault), config.json reads and writes
through the file store, island mode and manual backup events."""

from __future__ import annotations

import json
import math
import time
from dataclasses import replace
from pathlib import Path

import pytest
from pypowerwall.tedapi.protobuf.V2024_06 import tedapi_combined_pb2 as combined_pb2
from pypowerwall.tedapi.protobuf.V2024_06 import tedapi_pb2
from pypowerwall.tedapi.tedapi_v1r import TEDAPIv1r

from pypowerwall_server.simulator.config import SiteConfig
from pypowerwall_server.simulator.gateway import SimulatedGateway
from pypowerwall_server.simulator.interface import SimRequest, SimResponse
from pypowerwall_server.simulator.v1r_auth import BadKey, Fault, KeyRing, verify
from pypowerwall_server.simulator.v1r_messages import config_blob, config_change

from .v1r_signing import public_pem, rsa_key, signed_message, write_private_key

NOON = 1782070200.0  # 2026-06-21 12:30 PDT
SITE = replace(
    SiteConfig(),
    powerwalls=1,
    powerwall_kind="powerwall3",
    sim_start=NOON,
    initial_soe_raw_percent=50.0,
)
DIN = SITE.gateway_din


@pytest.fixture
def gateway() -> SimulatedGateway:
    gw = SimulatedGateway(SITE, clock=lambda: 1000.0)
    gw.register_v1r_key(public_pem(rsa_key("paired")))
    return gw


def login(gw: SimulatedGateway) -> dict[str, str]:
    body = json.dumps({"username": "customer", "password": SITE.customer_password}).encode()
    answer = gw.handle(SimRequest("POST", "/api/login/Basic", "", {}, body))
    assert answer.status == 200
    return {"authorization": f"Bearer {json.loads(answer.body)['token']}"}


def post_v1r(
    gw: SimulatedGateway, body: bytes, headers: dict[str, str] | None = None
) -> SimResponse:
    return gw.handle(
        SimRequest("POST", "/tedapi/v1r", "", login(gw) if headers is None else headers, body)
    )


def routable(answer: SimResponse) -> combined_pb2.RoutableMessage:
    assert answer.status == 200
    message = combined_pb2.RoutableMessage()
    message.ParseFromString(answer.body)
    return message


def fault(answer: SimResponse) -> int:
    return int(routable(answer).signed_message_status.message_fault)


def envelope(answer: SimResponse) -> combined_pb2.MessageEnvelope:
    message = routable(answer)
    assert message.signed_message_status.message_fault == Fault.NONE
    reply = combined_pb2.MessageEnvelope()
    reply.ParseFromString(message.protobuf_message_as_bytes)
    return reply


def config_read() -> bytes:
    request = combined_pb2.MessageEnvelope()
    request.deliveryChannel = combined_pb2.DELIVERY_CHANNEL_HERMES_COMMAND
    request.sender.authorizedClient = 1
    request.recipient.din = DIN
    request.filestore.readFileRequest.domain = combined_pb2.FILE_STORE_API_DOMAIN_CONFIG_JSON
    request.filestore.readFileRequest.name = "config.json"
    return bytes(request.SerializeToString())


def config_write(blob: bytes, digest: bytes) -> bytes:
    request = combined_pb2.MessageEnvelope()
    request.deliveryChannel = combined_pb2.DELIVERY_CHANNEL_HERMES_COMMAND
    update = request.filestore.updateFileRequest
    update.domain = combined_pb2.FILE_STORE_API_DOMAIN_CONFIG_JSON
    update.file.name = "config.json"
    update.file.blob = blob
    update.hash = digest
    return bytes(request.SerializeToString())


def teg(fill: str, **fields: object) -> bytes:
    request = combined_pb2.MessageEnvelope()
    request.recipient.din = DIN
    target = getattr(request.teg, fill)
    target.SetInParent()
    for name, value in fields.items():
        setattr(target, name, value)
    return bytes(request.SerializeToString())


# --- the signature check ------------------------------------------------------------------


def test_a_signature_made_by_pypowerwall_itself_is_accepted(
    gateway: SimulatedGateway, tmp_path: Path
) -> None:
    key_file = write_private_key(rsa_key("paired"), tmp_path / "key.pem")
    client = TEDAPIv1r(host="127.0.0.1:1", password="x", rsa_key_path=str(key_file))
    reply = envelope(post_v1r(gateway, client._signed_payload(config_read(), DIN)))
    assert reply.filestore.readFileResponse.file.name == "config.json"


@pytest.mark.parametrize(
    ("key_name", "options", "expected"),
    [
        (None, {}, Fault.UNKNOWN_KEY_ID),  # unsigned
        ("stranger", {}, Fault.UNKNOWN_KEY_ID),  # a key this gateway never paired
        ("paired", {"signed_din": "1232100-00-E--TG000000000000"}, Fault.INVALID_SIGNATURE),
        ("paired", {"signed_inner": b"something else"}, Fault.INVALID_SIGNATURE),
        ("paired", {"expires_at": 1_000_000}, Fault.TIME_EXPIRED),
        ("paired", {"expires_at": 4_000_000_000}, Fault.TIME_TO_LIVE_TOO_LONG),
    ],
)
def test_refused_requests_get_the_gateways_fault_and_change_nothing(
    gateway: SimulatedGateway, key_name: str | None, options: dict[str, object], expected: Fault
) -> None:
    before = gateway.state()
    key = rsa_key(key_name) if key_name else None
    raised = {"site_info": {"backup_reserve_percent": 100.0}}
    write = config_write(json.dumps(raised).encode(), config_blob(before)[1])
    answer = post_v1r(gateway, signed_message(write, DIN, key, **options))  # type: ignore[arg-type]
    assert fault(answer) == expected
    assert routable(answer).protobuf_message_as_bytes == b""
    assert gateway.state().backup_reserve_raw_percent == before.backup_reserve_raw_percent


def test_garbage_is_a_decoding_fault() -> None:
    assert verify(b"\xff\xff\xff", DIN, KeyRing(), time.time()).fault == Fault.DECODING


def test_without_a_login_session_v1r_is_401(gateway: SimulatedGateway) -> None:
    answer = post_v1r(gateway, signed_message(config_read(), DIN, rsa_key("paired")), headers={})
    assert answer.status == 401


def test_a_pending_key_gets_the_not_verified_text(gateway: SimulatedGateway) -> None:
    gateway.register_v1r_key(public_pem(rsa_key("stranger")), verified=False)
    message = routable(post_v1r(gateway, signed_message(config_read(), DIN, rsa_key("stranger"))))
    assert message.signed_message_status.message_fault == Fault.NONE
    assert b"authorization not verified" in message.protobuf_message_as_bytes


def test_only_rsa_4096_keys_register() -> None:
    from cryptography.hazmat.primitives.asymmetric import rsa

    small = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(BadKey):
        KeyRing().register(public_pem(small))
    with pytest.raises(BadKey):
        KeyRing().register("not a key")


def test_removing_a_key_unpairs_it(gateway: SimulatedGateway) -> None:
    (registered,) = gateway.v1r_keys.registered()
    assert gateway.v1r_keys.remove(registered.fingerprint)
    answer = post_v1r(gateway, signed_message(config_read(), DIN, rsa_key("paired")))
    assert fault(answer) == Fault.UNKNOWN_KEY_ID


# --- config.json over the file store ------------------------------------------------------


def read_config(gw: SimulatedGateway) -> tuple[dict[str, object], bytes]:
    reply = envelope(post_v1r(gw, signed_message(config_read(), DIN, rsa_key("paired"))))
    response = reply.filestore.readFileResponse
    return json.loads(response.file.blob), bytes(response.hash)


def write_config(
    gw: SimulatedGateway, document: dict[str, object], digest: bytes
) -> combined_pb2.MessageEnvelope:
    body = config_write(json.dumps(document).encode(), digest)
    return envelope(post_v1r(gw, signed_message(body, DIN, rsa_key("paired"))))


def test_config_write_changes_the_site(gateway: SimulatedGateway) -> None:
    document, digest = read_config(gateway)
    assert document["default_real_mode"] == "self_consumption"
    info = dict(document["site_info"])  # type: ignore[call-overload]
    info.update(
        backup_reserve_percent=81.0,
        disallow_charge_from_grid_with_solar_installed=False,
        customer_preferred_export_rule="never",
    )
    reply = write_config(
        gateway, {**document, "site_info": info, "default_real_mode": "backup"}, digest
    )
    assert reply.filestore.WhichOneof("message") == "updateFileResponse"
    state = gateway.state()
    assert state.backup_reserve_raw_percent == 81.0
    assert state.operating_mode == "backup"
    assert state.grid_charging is True
    assert state.export_rule == "never"
    assert read_config(gateway)[1] == bytes(reply.filestore.updateFileResponse.hash)


def test_a_stale_hash_or_a_bad_value_is_refused_whole(gateway: SimulatedGateway) -> None:
    document, digest = read_config(gateway)
    stale = write_config(gateway, {**document, "default_real_mode": "backup"}, b"old")
    assert stale.common.error_response.status.code == 9
    info = {**document["site_info"], "backup_reserve_percent": 101}  # type: ignore[dict-item]
    bad = write_config(
        gateway, {**document, "site_info": info, "default_real_mode": "backup"}, digest
    )
    assert bad.common.error_response.status.code == 3
    assert "backup_reserve_percent" in bad.common.error_response.status.message
    assert gateway.state().operating_mode == "self_consumption"


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"default_real_mode": "turbo"}, "default_real_mode"),
        ({"site_info": {"customer_preferred_export_rule": "sometimes"}}, "export_rule"),
        ({"site_info": {"backup_reserve_percent": "abc"}}, "backup_reserve_percent"),
        ({"site_info": {"disallow_charge_from_grid_with_solar_installed": "no"}}, "disallow"),
    ],
)
def test_config_change_validation(document: dict[str, object], message: str) -> None:
    site = SimulatedGateway(SITE, clock=lambda: 0.0).state()
    with pytest.raises(ValueError, match=message):
        config_change(json.dumps(document).encode(), site)


def test_queries_over_v1r_answer_like_tedapi(gateway: SimulatedGateway) -> None:
    request = tedapi_pb2.Message()
    request.message.deliveryChannel = 1
    request.message.sender.local = 1
    request.message.recipient.din = DIN
    request.message.firmware.request = b""
    reply_bytes = routable(
        post_v1r(
            gateway, signed_message(request.message.SerializeToString(), DIN, rsa_key("paired"))
        )
    ).protobuf_message_as_bytes
    reply = tedapi_pb2.MessageEnvelope()
    reply.ParseFromString(reply_bytes)
    assert reply.firmware.system.din == DIN


# --- TEG commands --------------------------------------------------------------------------


def send_teg(gw: SimulatedGateway, body: bytes) -> combined_pb2.MessageEnvelope:
    return envelope(post_v1r(gw, signed_message(body, DIN, rsa_key("paired"))))


def test_island_mode_needs_force_to_go_off_grid_and_mode_1_reconnects(
    gateway: SimulatedGateway,
) -> None:
    reply = send_teg(gateway, teg("setIslandModeRequest", mode=6))
    assert reply.teg.setIslandModeResponse.result == 1 and gateway.state().grid_up
    send_teg(gateway, teg("setIslandModeRequest", mode=6, force=True))
    state = gateway.state()
    assert state.grid_status == "SystemIslandedActive" and state.site.instant_power_w == 0
    send_teg(gateway, teg("setIslandModeRequest", mode=1))
    assert gateway.state().grid_status == "SystemGridConnected"


def test_manual_backup_holds_the_battery_until_cancelled(gateway: SimulatedGateway) -> None:
    request = combined_pb2.MessageEnvelope()
    info = request.teg.schedule_manual_backup_event_request.scheduling_info
    info.start_time.seconds = math.floor(time.time())
    info.duration_seconds = 3600
    reply = send_teg(gateway, request.SerializeToString())
    assert reply.teg.HasField("schedule_manual_backup_event_response")
    assert gateway.manual_backup_active()
    assert gateway.state().battery.instant_power_w < 0  # noon: the sun refills it
    events = send_teg(gateway, teg("get_backup_events_request")).teg.get_backup_events_response
    assert events.manual_backup_event.scheduling_info.duration_seconds == 3600
    send_teg(gateway, teg("cancel_manual_backup_event_request"))
    assert not gateway.manual_backup_active() and gateway.manual_backup() is None
