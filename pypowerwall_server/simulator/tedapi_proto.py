"""TEDAPI v1 protobuf framing, with the message classes pypowerwall itself ships
(query set V2024_06, pypowerwall's default): what a request asks for, and the response
Message that carries our answer back.

A request is a `Message` (envelope + tail). Its envelope holds one of: `config.send`
(read a file, "config.json"), `firmware.request` (system info), or `payload.send`
(a signed GraphQL query whose text names the operation).

The newer V2026_06 set (energy_device.v1: filestore.readFileRequest,
common.getSystemInfoRequest, graphql.queryRequest) uses the same field numbers and wire
types, so these classes read its requests and its client reads these answers
(queryResponse.data is payload.recv.text; getSystemInfoResponse is firmware.system).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from google.protobuf.message import DecodeError
from pypowerwall.tedapi.protobuf.V2024_06 import tedapi_pb2

from pypowerwall_server.simulator.state import SiteState
from pypowerwall_server.simulator.tedapi_selection import Selection, parse_selection

LOCAL_PARTICIPANT = 1
DEVICE_TYPE_SITECONTROLLER = 4
CONFIG_FILE = "config.json"
SIGNED_QUERY_V2 = 2  # SignedGraphQLQuery.version of the V2026_06 query set


class QueryKind(enum.Enum):
    CONFIG = "config"
    FIRMWARE = "firmware"
    STATUS = "status"  # DeviceControllerQuery without variables (get_status)
    CONTROLLER = "controller"  # DeviceControllerQuery with msa variables
    COMPONENTS = "components"  # ComponentsQuery (Powerwall 3)


@dataclass(frozen=True, slots=True)
class TedapiRequest:
    kind: QueryKind
    recipient_din: str
    tail: int
    selection: Selection = field(default_factory=Selection)  # components/signals asked for


class BadRequest(ValueError):
    """The body is not a TEDAPI request this gateway understands."""


def parse_request(body: bytes) -> TedapiRequest:
    message = tedapi_pb2.Message()
    try:
        message.ParseFromString(body)
    except DecodeError as exc:
        raise BadRequest(f"not a TEDAPI message: {exc}") from exc
    if not message.HasField("message"):
        raise BadRequest("no envelope")
    envelope = message.message
    kind = _kind(envelope)
    selection = Selection()
    if kind in (QueryKind.STATUS, QueryKind.CONTROLLER, QueryKind.COMPONENTS):
        send = envelope.payload.send
        selection = parse_selection(send.payload.text, send.b.value)
    return TedapiRequest(kind, envelope.recipient.din, message.tail.value, selection)


def _kind(envelope: tedapi_pb2.MessageEnvelope) -> QueryKind:
    if envelope.HasField("config"):
        send = envelope.config.WhichOneof("config") == "send"
        if send and envelope.config.send.file == CONFIG_FILE:
            return QueryKind.CONFIG
        raise BadRequest("unsupported config request")
    if envelope.HasField("firmware") and envelope.firmware.WhichOneof("id") == "request":
        return QueryKind.FIRMWARE
    if envelope.HasField("payload") and envelope.payload.HasField("send"):
        return _query_kind(envelope.payload.send)
    raise BadRequest("empty or unsupported request")


def _query_kind(send: tedapi_pb2.PayloadQuerySend) -> QueryKind:
    """The operation a signed GraphQL query names. The V2026_06 query set sends a
    SignedGraphQLQuery {version 2, query} in the same wire slots (version lands in
    `payload.value`, the query text in `payload.text`); its DeviceControllerQuery asks
    for the msa components inline, so it gets the full answer."""
    if not send.code:
        raise BadRequest("unsigned query")
    text = send.payload.text
    head = text[: text.find("{")] if "{" in text else text
    if "ComponentsQuery" in head or "PW3Query" in head:
        return QueryKind.COMPONENTS
    if "DeviceControllerQuery" in head:
        signed_v2 = send.payload.value >= SIGNED_QUERY_V2
        return QueryKind.CONTROLLER if "$msaComp" in head or signed_v2 else QueryKind.STATUS
    raise BadRequest("unknown query")


def _response(sender_din: str, tail: int) -> tedapi_pb2.Message:
    response = tedapi_pb2.Message()
    envelope = response.message
    envelope.deliveryChannel = 1
    envelope.sender.din = sender_din
    envelope.recipient.local = LOCAL_PARTICIPANT
    response.tail.value = tail or 1
    return response


def query_response(sender_din: str, tail: int, json_text: str) -> bytes:
    response = _response(sender_din, tail)
    response.message.payload.recv.value = 1
    response.message.payload.recv.text = json_text
    return bytes(response.SerializeToString())


def config_response(sender_din: str, tail: int, json_text: str) -> bytes:
    response = _response(sender_din, tail)
    recv = response.message.config.recv
    recv.file.name = CONFIG_FILE
    recv.file.text = json_text
    recv.code = b"\x00" * 16  # stands in for the gateway's signature
    return bytes(response.SerializeToString())


def firmware_response(site: SiteState, tail: int) -> bytes:
    response = _response(site.gateway_din, tail)
    system = response.message.firmware.system
    system.gateway.partNumber = site.gateway_part_number
    system.gateway.serialNumber = site.gateway_serial
    system.din = site.gateway_din
    system.version.text = site.firmware_version
    system.version.githash = site.git_hash.encode("ascii", errors="replace")
    system.deviceType = DEVICE_TYPE_SITECONTROLLER
    system.systemUpdate.updateStatus = 1  # idle
    system.systemUpdate.lastUpdateResult = 2  # succeeded
    radio = system.wireless.device.add()
    radio.company.value = "Murata"
    radio.model.value = "Type 1GC"
    radio.fcc_id.value = "VPYLB1GC"
    radio.ic.value = "772C-LB1GC"
    return bytes(response.SerializeToString())
