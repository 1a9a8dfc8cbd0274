"""The TEDAPI renderer driven directly with requests built from pypowerwall's own protobuf
classes and query captures, answers parsed the way pypowerwall parses them."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from pypowerwall.local import tesla_pb2
from pypowerwall.tedapi import (
    _pw2_msa_module_pairing,
    _sync_uptime_ms,
    decompress_response,
)
from pypowerwall.tedapi.protobuf.V2024_06 import tedapi_pb2
from pypowerwall.tedapi.protobuf.V2026_06 import tedapi_v2_transport_pb2 as tx
from pypowerwall.tedapi.queries import V2026_06_QUERIES, QueryRole, apply_query, get_query
from pypowerwall.tedapi.system_info import V2024_SYS_SCHEMA, SystemInfo

from pypowerwall_server.simulator.interface import SimRequest, SimResponse
from pypowerwall_server.simulator.state import SiteState
from pypowerwall_server.simulator.tedapi import (
    handle_tedapi,
    is_tedapi_request,
    render_devices_vitals,
)
from pypowerwall_server.simulator.tedapi_selection import parse_selection

from .tedapi_site_factory import GATEWAY_DIN, make_site, without_unit

GW_PWD = "ABCDEFGHIJ"


def basic(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"authorization": f"Basic {token}"}


AUTH = basic("Tesla_Energy_Device", GW_PWD)


def request(
    method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
) -> SimRequest:
    return SimRequest(method, path, "", AUTH if headers is None else headers, body)


def query_bytes(role: QueryRole, recipient: str = GATEWAY_DIN, sender: str | None = None) -> bytes:
    """A query request exactly as pypowerwall 0.22.2 builds it (V2024_06)."""
    pb = tedapi_pb2.Message()
    pb.message.deliveryChannel = 1
    if sender:
        pb.message.sender.din = sender
    else:
        pb.message.sender.local = 1
    pb.message.recipient.din = recipient
    pb.message.payload.send.num = 2
    pb.message.payload.send.payload.value = 1
    apply_query(pb.message.payload.send, get_query(role))
    pb.tail.value = 2 if sender else 1
    return bytes(pb.SerializeToString())


def config_bytes(recipient: str = GATEWAY_DIN) -> bytes:
    pb = tedapi_pb2.Message()
    pb.message.deliveryChannel = 1
    pb.message.sender.local = 1
    pb.message.recipient.din = recipient
    pb.message.config.send.num = 1
    pb.message.config.send.file = "config.json"
    pb.tail.value = 1
    return bytes(pb.SerializeToString())


def firmware_bytes() -> bytes:
    pb = tedapi_pb2.Message()
    pb.message.deliveryChannel = 1
    pb.message.sender.local = 1
    pb.message.recipient.din = GATEWAY_DIN
    pb.message.firmware.request = ""
    pb.tail.value = 1
    return bytes(pb.SerializeToString())


def post(site: SiteState, body: bytes, path: str = "/tedapi/v1") -> SimResponse:
    return handle_tedapi(request("POST", path, body), site, GW_PWD, False)


def query_json(site: SiteState, body: bytes, path: str = "/tedapi/v1") -> dict[str, Any]:
    response = post(site, body, path)
    assert response.status == 200, response.body
    message = tedapi_pb2.Message()
    message.ParseFromString(decompress_response(response.body))
    result: dict[str, Any] = json.loads(message.message.payload.recv.text)
    return result


def config_of(site: SiteState) -> dict[str, Any]:
    response = post(site, config_bytes())
    assert response.status == 200
    message = tedapi_pb2.Message()
    message.ParseFromString(decompress_response(response.body))
    result: dict[str, Any] = json.loads(message.message.config.recv.file.text)
    return result


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("GET", "/", True),
        ("GET", "/tedapi/din", True),
        ("POST", "/tedapi/v1", True),
        ("POST", "/tedapi/device/1707000-11-J--TG123/v1", True),
        ("GET", "/api/status", False),
        ("POST", "/api/login/Basic", False),
        ("POST", "/", False),
    ],
)
def test_is_tedapi_request(method: str, path: str, expected: bool) -> None:
    assert is_tedapi_request(request(method, path)) is expected


@pytest.mark.parametrize(("kind", "status"), [("powerwall2", 200), ("powerwall3", 404)])
def test_portal_probe_tells_powerwall_3_apart(kind: Any, status: int) -> None:
    site = make_site(kind=kind)
    assert handle_tedapi(request("GET", "/", headers={}), site, GW_PWD, False).status == status


def test_din_is_the_gateway_din() -> None:
    response = handle_tedapi(request("GET", "/tedapi/din"), make_site(), GW_PWD, False)
    assert (response.status, response.body) == (200, GATEWAY_DIN.encode())


@pytest.mark.parametrize(
    ("headers", "refuse"),
    [
        (basic("Tesla_Energy_Device", "WRONGPASSW"), False),
        (basic("customer", GW_PWD), False),
        ({}, False),
        ({"authorization": "Basic !!!notbase64"}, False),
        ({"authorization": f"Bearer {GW_PWD}"}, False),
        (AUTH, True),
    ],
)
def test_bad_or_refused_auth_is_forbidden(headers: dict[str, str], refuse: bool) -> None:
    site = make_site()
    for method, path, body in (("GET", "/tedapi/din", b""), ("POST", "/tedapi/v1", config_bytes())):
        response = handle_tedapi(request(method, path, body, headers), site, GW_PWD, refuse)
        assert response.status == 403


def test_config_carries_blocks_and_settings() -> None:
    site = make_site(powerwalls=3)
    config = config_of(site)
    assert config["vin"] == GATEWAY_DIN
    assert [b["vin"] for b in config["battery_blocks"]] == [pw.din for pw in site.powerwalls]
    assert {b["type"] for b in config["battery_blocks"]} == {"Powerwall2"}
    assert config["default_real_mode"] == "self_consumption"
    info = config["site_info"]
    assert info["backup_reserve_percent"] == 24.0
    assert info["customer_preferred_export_rule"] == "pv_only"
    assert info["disallow_charge_from_grid_with_solar_installed"] is True
    assert info["site_name"] == "Test Site"


def test_status_matches_site_state() -> None:
    site = make_site()
    status = query_json(site, query_bytes(QueryRole.DEVICE_CONTROLLER_BASIC))
    power = {m["location"]: m["realPowerW"] for m in status["control"]["meterAggregates"]}
    assert power["SITE"] == site.site.instant_power_w
    assert power["BATTERY"] == site.battery.instant_power_w
    assert power["SOLAR"] == site.solar.instant_power_w
    assert power["LOAD"] == site.load.instant_power_w
    system = status["control"]["systemStatus"]
    assert system["nominalEnergyRemainingWh"] == round(site.nominal_energy_remaining_wh)
    assert system["nominalFullPackEnergyWh"] == round(site.nominal_full_pack_energy_wh)
    assert "SystemConnectedToGrid" in status["control"]["alerts"]["active"]
    bus = status["esCan"]["bus"]
    assert [t["packageSerialNumber"] for t in bus["THC"]] == [pw.serial for pw in site.powerwalls]
    pods = [p["POD_EnergyStatus"]["POD_nom_energy_remaining"] for p in bus["POD"]]
    assert sum(pods) == pytest.approx(site.nominal_energy_remaining_wh, abs=2)
    assert bus["PINV"][0]["PINV_Status"]["PINV_Pout"] == pytest.approx(-0.5)  # kW
    assert "components" not in status


def test_full_controller_pairs_packages_with_modules() -> None:
    site = make_site(powerwalls=3)
    controller = query_json(site, query_bytes(QueryRole.DEVICE_CONTROLLER_FULL))
    serials = [pw.serial for pw in site.powerwalls]
    pairs = _pw2_msa_module_pairing(controller["components"]["msa"], serials)
    assert sorted(pairs) == sorted(serials)
    assert _sync_uptime_ms(controller) == pytest.approx(site.uptime_seconds * 1000.0)


def test_firmware_parses_as_system_info() -> None:
    site = make_site()
    response = post(site, firmware_bytes())
    message = tedapi_pb2.Message()
    message.ParseFromString(response.body)
    info = SystemInfo.from_proto(message.message, V2024_SYS_SCHEMA)
    assert (info.version, info.din, info.githash) == (
        site.firmware_version,
        GATEWAY_DIN,
        site.git_hash,
    )


def test_powerwall_3_device_answers_components() -> None:
    site = make_site(kind="powerwall3", powerwalls=2, expansion_packs=1)
    leader = site.powerwalls[0]
    body = query_bytes(QueryRole.COMPONENTS, recipient=leader.din, sender=GATEWAY_DIN)
    data = query_json(site, body, f"/tedapi/device/{leader.din}/v1")
    groups = data["components"]
    assert [h["serialNumber"] for h in groups["hvp"]] == [leader.serial, site.powerwalls[2].serial]
    energies = [s["value"] for s in groups["bms"][0]["signals"] if "EnergyRemaining" in s["name"]]
    assert energies == [round(leader.nominal_energy_remaining_wh) / 1000.0]


def test_components_to_a_powerwall_2_device_is_not_found() -> None:
    site = make_site()
    din = site.powerwalls[1].din
    body = query_bytes(QueryRole.COMPONENTS, recipient=din, sender=GATEWAY_DIN)
    assert post(site, body, f"/tedapi/device/{din}/v1").status == 404


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"\xff\xff\xff\xff", 400),
        (b"", 400),
        (b"not a protobuf at all", 400),
    ],
)
def test_bad_protobuf_is_rejected(body: bytes, status: int) -> None:
    assert post(make_site(), body).status == status


def test_unknown_or_unsigned_query_is_rejected() -> None:
    pb = tedapi_pb2.Message()
    pb.message.recipient.din = GATEWAY_DIN
    pb.message.payload.send.payload.text = "query SomethingElse { x }"
    pb.message.payload.send.code = b"sig"
    assert post(make_site(), pb.SerializeToString()).status == 400
    pb.message.payload.send.payload.text = "query DeviceControllerQuery { x }"
    pb.message.payload.send.code = b""
    assert post(make_site(), pb.SerializeToString()).status == 400


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("POST", "/tedapi/v2", 404), ("GET", "/tedapi/v1", 405), ("POST", "/tedapi/din", 405)],
)
def test_unknown_path_or_method(method: str, path: str, status: int) -> None:
    response = handle_tedapi(request(method, path, config_bytes()), make_site(), GW_PWD, False)
    assert response.status == status


def test_wrong_recipient_is_not_found() -> None:
    assert post(make_site(), config_bytes(recipient="1232100-00-E--OTHER")).status == 404


def test_missing_powerwall_disappears_from_live_data_only() -> None:
    site = without_unit(make_site(powerwalls=3), 1)
    gone = site.powerwalls[1]
    status = query_json(site, query_bytes(QueryRole.DEVICE_CONTROLLER_FULL))
    assert gone.din not in [b["din"] for b in status["control"]["batteryBlocks"]]
    assert gone.serial not in [t["packageSerialNumber"] for t in status["esCan"]["bus"]["THC"]]
    assert gone.serial not in [c["serialNumber"] for c in status["components"]["msa"]]
    assert len(status["esCan"]["bus"]["POD"]) == 2
    assert gone.din in [b["vin"] for b in config_of(site)["battery_blocks"]]


def test_missing_powerwall_3_does_not_answer() -> None:
    site = without_unit(make_site(kind="powerwall3", powerwalls=2), 1)
    din = site.powerwalls[1].din
    body = query_bytes(QueryRole.COMPONENTS, recipient=din, sender=GATEWAY_DIN)
    assert post(site, body, f"/tedapi/device/{din}/v1").status == 404


def test_grid_down_reads_islanded() -> None:
    site = make_site(grid_up=False)
    status = query_json(site, query_bytes(QueryRole.DEVICE_CONTROLLER_BASIC))
    assert "SystemConnectedToGrid" not in status["control"]["alerts"]["active"]
    islander = status["esCan"]["bus"]["ISLANDER"]
    assert islander["ISLAND_GridConnection"]["ISLAND_GridConnected"] != (
        "ISLAND_GridConnected_Connected"
    )
    assert status["control"]["islanding"]["gridOK"] is False


def test_new_firmware_gzips_answers() -> None:
    site = make_site(firmware="25.42.2 0123abcd")
    response = handle_tedapi(request("GET", "/tedapi/din"), site, GW_PWD, False)
    assert response.body[:2] == b"\x1f\x8b"
    assert decompress_response(response.body) == GATEWAY_DIN.encode()
    assert query_json(site, query_bytes(QueryRole.DEVICE_CONTROLLER_BASIC))["control"]


def test_legacy_devices_vitals_protobuf() -> None:
    site = without_unit(make_site(powerwalls=2), 0)
    message = tesla_pb2.DevicesWithVitals()
    message.ParseFromString(render_devices_vitals(site))
    names = [d.device.device.din.value for d in message.devices]
    kept, gone = site.powerwalls[1], site.powerwalls[0]
    assert f"TETHC--{kept.part_number}--{kept.serial}" in names
    assert f"TETHC--{gone.part_number}--{gone.serial}" not in names
    assert f"STSTSM--{GATEWAY_DIN}" in names
    pod = next(d for d in message.devices if d.device.device.din.value.startswith("TEPOD--"))
    vitals = {v.name: v.floatValue for v in pod.vitals if v.HasField("floatValue")}
    assert vitals["POD_nom_energy_remaining"] == round(kept.nominal_energy_remaining_wh)


def signed_v2026_bytes(operation: str, recipient: str = GATEWAY_DIN) -> bytes:
    """A V2026_06 pre-signed query exactly as pypowerwall builds it."""
    query = V2026_06_QUERIES[operation]
    pb = tx.Message()
    pb.message.deliveryChannel = 1
    pb.message.sender.local = 1
    pb.message.recipient.din = recipient
    request = pb.message.graphql.queryRequest
    request.format = 2
    request.query = query.signed_bytes
    request.signature = query.code
    request.variablesJson.value = query.b_value
    pb.tail.value = 1
    return bytes(pb.SerializeToString())


def v2026_data(site: SiteState, body: bytes, path: str = "/tedapi/v1") -> dict[str, Any]:
    response = post(site, body, path)
    assert response.status == 200, response.body
    message = tx.Message()
    message.ParseFromString(response.body)
    result: dict[str, Any] = json.loads(message.message.graphql.queryResponse.data)
    return result


def pch_signal_names(data: dict[str, Any]) -> set[str]:
    return {s["name"] for s in data["components"]["pch"][0]["signals"]}


@pytest.mark.parametrize(
    ("text", "variables", "expected"),
    [
        (
            "query Q($f: ComponentFilter, $n: [String!]) {components {"
            " pch: components(filter: $f) {\n signals(names: $n) {name}}}}",
            '{"f": {"types": ["PCH"]}, "n": ["PCH_State", "PCH_AcMode"]}',
            {"pch": ({"PCH"}, {"PCH_State", "PCH_AcMode"})},
        ),
        (
            "query Q{components{msa:components(filter:{types:[TEMSA PVAC]}){partNumber"
            ' signals(names:["MSA_pcbaId" "PVAC_Fan"]){name}}}}',
            "{}",
            {"msa": ({"TEMSA", "PVAC"}, {"MSA_pcbaId", "PVAC_Fan"})},
        ),
        ("query DeviceControllerQuery { control { alerts { active } } }", "{}", {}),
        (
            "query Q{components{x:components(filter:$missing){signals(names:$gone){name}}}}",
            "[]",
            {"x": (set(), set())},
        ),
    ],
)
def test_parse_selection(text: str, variables: str, expected: dict[str, Any]) -> None:
    selection = parse_selection(text, variables)
    assert {a: (set(s.types), set(s.signals)) for a, s in selection.aliases.items()} == expected


def test_only_requested_signals_are_answered() -> None:
    site = make_site(kind="powerwall3", powerwalls=1)
    din = site.powerwalls[0].din
    legacy = query_json(site, query_bytes(QueryRole.COMPONENTS, recipient=din))
    assert "PCH_FanSpeed_A" in pch_signal_names(legacy)  # pypowerwall asks for it (V2024_06)
    signed = v2026_data(site, signed_v2026_bytes("PW3Query", recipient=din))
    names = pch_signal_names(signed)
    assert "PCH_BatteryPower" in names and "PCH_FanSpeed_A" not in names  # PW3Query does not


def test_v2026_device_controller_is_answered_in_graphql_response() -> None:
    site = make_site()
    data = v2026_data(site, signed_v2026_bytes("DeviceControllerQuery"))
    power = {m["location"]: m["realPowerW"] for m in data["control"]["meterAggregates"]}
    assert power["SOLAR"] == site.solar.instant_power_w
    assert data["components"]["msa"] == []  # its msa filter asks for TEMSA only


def test_powerwall_3_solar_strings_are_on_its_inverter() -> None:
    site = make_site(kind="powerwall3", powerwalls=1)
    leader = site.powerwalls[0]
    status = query_json(site, query_bytes(QueryRole.DEVICE_CONTROLLER_BASIC))
    assert status["esCan"]["bus"]["PVAC"] == []  # no separate solar inverter on the bus
    data = query_json(site, query_bytes(QueryRole.COMPONENTS, recipient=leader.din))
    signals = {s["name"]: s for s in data["components"]["pch"][0]["signals"]}
    for string in site.strings:
        assert signals[f"PCH_PvVoltage{string.letter}"]["value"] == string.voltage_v
        assert signals[f"PCH_PvCurrent{string.letter}"]["value"] == string.current_a
    assert signals["PCH_PvState_B"]["textValue"] == "Pv_Standby"  # disconnected
    assert signals["PCH_BatteryPower"]["value"] == leader.p_out_w
