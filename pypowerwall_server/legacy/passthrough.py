"""`/api/*` routes: the proxy's ALLOWLIST passthroughs, its constant answers, and 404.

Each allowlisted path answers the library's `poll(path, jsonformat=True)` string verbatim
(compact JSON of the gateway's answer, library mock sentinels such as "TIMEOUT!" included).
Differences from the proxy, on purpose:
* a path whose poll gave nothing answers Unavailable (the proxy said `null`);
* `/api/troubleshooting/problems` answers the proxy's constant with any query string too
  (the proxy polled the gateway when a query was added; we save that gateway call);
* an unknown `/api/` path answers 404 JSON (the proxy said text "Not Found", status 200);
* personal data (installer contact details, network names) answers 403 unless the user
  opted in with PW_PERSONAL_DATA (docs/architecture.md, decision 9: not in unauthenticated answers).
"""

from __future__ import annotations

from pypowerwall_server.legacy.responses import (
    JSON,
    LegacyResponse,
    RouteResult,
    Unavailable,
    json_text,
)
from pypowerwall_server.legacy.view import CallView
from pypowerwall_server.models import LegacyOptions

ALLOWLIST: frozenset[str] = frozenset(
    {
        "/api/status",
        "/api/site_info/site_name",
        "/api/meters/site",
        "/api/meters/solar",
        "/api/sitemaster",
        "/api/powerwalls",
        "/api/customer/registration",
        "/api/system_status",
        "/api/system_status/grid_status",
        "/api/system/update/status",
        "/api/site_info",
        "/api/system_status/grid_faults",
        "/api/operation",
        "/api/site_info/grid_codes",
        "/api/solars",
        "/api/solars/brands",
        "/api/customer",
        "/api/meters",
        "/api/installer",
        "/api/networks",
        "/api/system/networks",
        "/api/meters/readings",
        "/api/synchrometer/ct_voltage_references",
        "/api/troubleshooting/problems",
        "/api/auth/toggle/supported",
        "/api/solar_powerwall",
    }
)
# Personal data never passes through: the proxy's constant "disabled" answer.
REGISTRATION = "/api/customer/registration"
PROBLEMS = "/api/troubleshooting/problems"
CONSTANTS: dict[str, str] = {
    REGISTRATION: '{"status": "404 Response - API Disabled"}',
    PROBLEMS: '{"problems": []}',
}
POLLED_API_PATHS: frozenset[str] = ALLOWLIST - CONSTANTS.keys()
# Installer name, phone, email and address; Wi-Fi network names and addresses.
PERSONAL: frozenset[str] = frozenset({"/api/installer", "/api/networks", "/api/system/networks"})
WITHHELD = LegacyResponse(
    403,
    JSON,
    b'{"error": "personal data (installer contact, network names): served only when '
    b'PW_PERSONAL_DATA is yes"}',
)


def poll_route(path: str, view: CallView) -> RouteResult:
    text = view.text(f"poll('{path}', jsonformat=True)")
    if text is None:
        return Unavailable(f"no answer from the gateway for {path} yet")
    return json_text(text)


def personal_route(path: str, view: CallView, options: LegacyOptions) -> RouteResult:
    return poll_route(path, view) if options.personal_data else WITHHELD


def constant_route(path: str) -> RouteResult:
    return json_text(CONSTANTS[path])
