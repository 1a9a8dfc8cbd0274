"""TEDAPI side of the simulated gateway: what pypowerwall's TEDAPI client requests and
what a Tesla Energy Gateway answers.

- `GET /` (the web portal): 200 on Powerwall 2/+ gateways; a Powerwall 3 has no portal
  and answers 404, which is how pypowerwall tells the two apart.
- `GET /tedapi/din`: the gateway DIN as text.
- `POST /tedapi/v1`: a protobuf request (config.json, firmware, DeviceControllerQuery,
  ComponentsQuery); `POST /tedapi/device/<din>/v1`: a ComponentsQuery routed to one
  Powerwall 3 of a multi-Powerwall 3 site.

Every /tedapi/ request needs HTTP Basic auth `Tesla_Energy_Device:<gateway password>`;
a missing or wrong password is refused with 403, the status pypowerwall reports as
"Access Denied: Check your Gateway Password". Malformed or unknown requests get a 4xx.
Firmware 25.42.2 and newer gzip their TEDAPI answers (without Content-Encoding, so the
client unzips by the magic bytes, as pypowerwall does).
"""

from __future__ import annotations

import base64
import binascii
import gzip
import json
import re
import secrets

from google.protobuf.message import DecodeError
from pypowerwall.tedapi.protobuf.V2024_06 import tedapi_pb2

from pypowerwall_server.simulator.interface import SimRequest, SimResponse
from pypowerwall_server.simulator.state import PowerwallState, SiteState
from pypowerwall_server.simulator.tedapi_common import (
    firmware_at_least,
    is_pw3_site,
    visible_units,
)
from pypowerwall_server.simulator.tedapi_components import components_answer
from pypowerwall_server.simulator.tedapi_config import config_json
from pypowerwall_server.simulator.tedapi_controller import device_controller
from pypowerwall_server.simulator.tedapi_proto import (
    BadRequest,
    QueryKind,
    TedapiRequest,
    config_response,
    firmware_response,
    parse_request,
    query_response,
)
from pypowerwall_server.simulator.vitals_proto import render_devices_vitals

__all__ = [
    "answer_envelope",
    "din_response",
    "handle_tedapi",
    "is_tedapi_request",
    "render_devices_vitals",
]

TEDAPI_USER = "Tesla_Energy_Device"
GZIP_FIRMWARE = (25, 42, 2)
PROTOBUF = "application/octet-stream"
DEVICE_PATH = re.compile(r"^/tedapi/device/(?P<din>[^/]+)/v1$")
PORTAL_HTML = (
    b"<!DOCTYPE html><html><head><title>Tesla Energy Gateway</title></head>"
    b"<body><div id='root'></div></body></html>"
)


def is_tedapi_request(request: SimRequest) -> bool:
    """True for requests pypowerwall's TEDAPI client makes: /tedapi/* and the GET / probe."""
    return request.path.startswith("/tedapi/") or (
        request.method in ("GET", "HEAD") and request.path == "/"
    )


def handle_tedapi(
    request: SimRequest, site: SiteState, gw_pwd: str, refuse_auth: bool
) -> SimResponse:
    """Answer one TEDAPI request as the gateway of `site` would. Never raises."""
    if request.path == "/":
        return _portal(site)
    if not _authorized(request, gw_pwd) or refuse_auth:
        return _text(403, "Forbidden")
    if request.path == "/tedapi/din":
        return din_response(request, site)
    device = DEVICE_PATH.match(request.path)
    if request.path != "/tedapi/v1" and device is None:
        return _text(404, "Not Found")
    if request.method != "POST":
        return _text(405, "Method Not Allowed")
    try:
        parsed = parse_request(request.body)
        body = _answer(site, parsed, device.group("din") if device else None)
    except BadRequest as exc:
        return _text(400, str(exc))
    except LookupError as exc:
        return _text(404, str(exc))
    return SimResponse(200, _maybe_gzip(site, body), PROTOBUF)


def _portal(site: SiteState) -> SimResponse:
    if is_pw3_site(site):
        return _text(404, "Not Found")
    return SimResponse(200, PORTAL_HTML, "text/html; charset=utf-8")


def _authorized(request: SimRequest, gw_pwd: str) -> bool:
    header = request.headers.get("authorization", "")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return False
    user, sep, password = decoded.partition(":")
    if not sep or user != TEDAPI_USER:
        return False
    return secrets.compare_digest(password.encode(), gw_pwd.encode())


def din_response(request: SimRequest, site: SiteState) -> SimResponse:
    if request.method != "GET":
        return _text(405, "Method Not Allowed")
    body = _maybe_gzip(site, site.gateway_din.encode())
    return SimResponse(200, body, "text/plain; charset=utf-8")


def answer_envelope(site: SiteState, envelope: bytes) -> bytes:
    """A TEDAPI query that came over v1r: a bare MessageEnvelope in (no Message/tail
    wrapper), the bare answer envelope out. Raises BadRequest or LookupError."""
    message = tedapi_pb2.Message()
    try:
        message.message.ParseFromString(envelope)
    except DecodeError as exc:
        raise BadRequest(f"not a TEDAPI envelope: {exc}") from exc
    message.tail.value = 1
    answer = tedapi_pb2.Message()
    answer.ParseFromString(_answer(site, parse_request(message.SerializeToString()), None))
    return bytes(answer.message.SerializeToString())


def _answer(site: SiteState, request: TedapiRequest, device_din: str | None) -> bytes:
    if device_din is not None:
        if request.kind is not QueryKind.COMPONENTS:
            raise BadRequest("only ComponentsQuery is routed to a device")
        return _components(site, request, _pw3(site, device_din))
    if request.kind is QueryKind.COMPONENTS:
        return _components(site, request, _components_target(site, request.recipient_din))
    if request.recipient_din != site.gateway_din:
        raise LookupError(f"unknown recipient {request.recipient_din!r}")
    if request.kind is QueryKind.CONFIG:
        return config_response(site.gateway_din, request.tail, _encode(config_json(site)))
    if request.kind is QueryKind.FIRMWARE:
        return firmware_response(site, request.tail)
    full = request.kind is QueryKind.CONTROLLER
    document = device_controller(site, full=full, selection=request.selection)
    return query_response(site.gateway_din, request.tail, _encode(document))


def _components(site: SiteState, request: TedapiRequest, pw: PowerwallState | None) -> bytes:
    sender = pw.din if pw is not None else site.gateway_din
    return query_response(
        sender, request.tail, _encode(components_answer(site, pw, request.selection))
    )


def _components_target(site: SiteState, recipient: str) -> PowerwallState | None:
    """A ComponentsQuery to the gateway is answered by the leading Powerwall 3 (none on
    other sites: empty component lists); one to a Powerwall 3 by that unit."""
    if recipient == site.gateway_din:
        return next((pw for pw in visible_units(site) if pw.kind == "powerwall3"), None)
    return _pw3(site, recipient)


def _pw3(site: SiteState, din: str) -> PowerwallState:
    """The visible Powerwall 3 with this DIN; a missing unit does not answer."""
    for pw in visible_units(site):
        if pw.din == din and pw.kind == "powerwall3":
            return pw
    raise LookupError(f"no Powerwall 3 {din!r}")


def _encode(document: object) -> str:
    return json.dumps(document, separators=(",", ":"))


def _maybe_gzip(site: SiteState, body: bytes) -> bytes:
    return gzip.compress(body, mtime=0) if firmware_at_least(site, GZIP_FIRMWARE) else body


def _text(status: int, message: str) -> SimResponse:
    return SimResponse(status, message.encode(), "text/plain; charset=utf-8")
