"""TEDAPI side of the simulated gateway (work in progress: stubs with the final signatures)."""

from __future__ import annotations

from pypowerwall_server.simulator.interface import SimRequest, SimResponse
from pypowerwall_server.simulator.state import SiteState


def is_tedapi_request(request: SimRequest) -> bool:
    """True for requests pypowerwall's TEDAPI client makes: /tedapi/* and the GET / probe."""
    return request.path.startswith("/tedapi/") or (request.method == "GET" and request.path == "/")


def handle_tedapi(
    request: SimRequest, site: SiteState, gw_pwd: str, refuse_auth: bool
) -> SimResponse:
    """Answer one TEDAPI request as a gateway would."""
    return SimResponse(status=404, body=b"", content_type="text/plain")


def render_devices_vitals(site: SiteState) -> bytes:
    """The legacy /api/devices/vitals protobuf (firmware older than 23.44)."""
    return b""
