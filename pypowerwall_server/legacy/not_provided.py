"""Data a gateway never provides, told apart from data that is only late.

A route whose primary data is missing answers Unavailable: the server's 503 + Retry-After,
"not yet", because a later poll should bring it. When the gateway's mode or firmware never
provides that data, a 503 would repeat for ever (Telegraf logs an error every interval), so
the route answers as the legacy proxy did for the missing capability: 200 with the proxy's
own empty body (`null`, `{}`), plus the header `X-Data-Unavailable: <reason>`.

A call counts as never provided when it gave nothing and
1. the connection cannot give it (GatewayAttributes and firmware):
   * vitals() on a local-mode gateway without TEDAPI, firmware 23.44 or later (the gateway
     removed /api/devices/vitals; the library then disables the call);
   * poll('<path>') on a TEDAPI-only connection for the /api/ paths the library's TEDAPI
     mode does not implement (it answers None, every time);
2. or the last NOT_PROVIDED_AFTER_POLLS successful polls that made the call all came back
   without it (Snapshot.absent_polls; one poll with data resets the count).
Anything else missing stays 503. A stale gateway answers 503 before any route is rendered
(freshness.py), so this never hides an outage.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pypowerwall_server.legacy.derivations import make_view
from pypowerwall_server.legacy.passthrough import ALLOWLIST
from pypowerwall_server.legacy.responses import JSON, LegacyResponse
from pypowerwall_server.legacy.view import CallView
from pypowerwall_server.models import GatewayAttributes

HEADER = "x-data-unavailable"
NOT_PROVIDED_AFTER_POLLS = 12  # a minute of 5 s polls; an hour of slow-tier polls
VITALS = "vitals()"
VITALS_REMOVED_IN = (23, 44)
# ALLOWLIST paths pypowerwall 0.22.2's TEDAPI mode maps to get_unimplemented_api (None every
# time): pypowerwall/tedapi/pypowerwall_tedapi.py, init_poll_api_map.
NOT_OVER_TEDAPI = frozenset({"/api/meters/solar"})

# Route key -> (the call it is built from, the proxy's body when that call gave nothing).
EMPTY_BODIES: dict[str, tuple[str, bytes]] = {
    "/vitals": (VITALS, b"null"),
    "/pw/vitals": (VITALS, b"null"),
    "/temps": (VITALS, b"{}"),
    "/temps/pw": (VITALS, b"{}"),
    "/pw/temps": (VITALS, b"null"),
    **{path: (f"poll('{path}')", b"null") for path in ALLOWLIST},
}


def not_provided_answer(
    route_key: str,
    view: CallView,
    attributes: GatewayAttributes,
    absent_polls: Mapping[str, int],
) -> LegacyResponse | None:
    """The proxy's empty answer with the reason, when the route's source is never provided;
    None when the data may still come (the caller keeps its 503)."""
    source = EMPTY_BODIES.get(route_key)
    if source is None:
        return None
    call, body = source
    reason = never_provided(call, view, attributes, absent_polls)
    if reason is None:
        return None
    return LegacyResponse(200, JSON, body, ((HEADER, reason),))


def why_not_provided(
    call: str,
    calls: Mapping[str, Any],
    attributes: GatewayAttributes,
    absent_polls: Mapping[str, int],
) -> str | None:
    """never_provided() on a Snapshot's calls (our own API's verbatim data routes)."""
    return never_provided(call, make_view(calls), attributes, absent_polls)


def never_provided(
    call: str,
    view: CallView,
    attributes: GatewayAttributes,
    absent_polls: Mapping[str, int],
) -> str | None:
    """Why `call` will not give data on this gateway, or None when it may still."""
    if view.get(call) is not None:
        return None
    if call == VITALS and _vitals_removed(view, attributes):
        return "local mode on firmware 23.44 or later has no vitals; add the gateway password"
    path = call[len("poll('") : -len("')")] if call.startswith("poll('") else None
    if path in NOT_OVER_TEDAPI and attributes.mode == "tedapi":
        return f"TEDAPI mode does not provide {path}"
    if absent_polls.get(call, 0) >= NOT_PROVIDED_AFTER_POLLS:
        return f"not provided by this gateway ({NOT_PROVIDED_AFTER_POLLS} polls without it)"
    return None


def _vitals_removed(view: CallView, attributes: GatewayAttributes) -> bool:
    if attributes.mode != "local" or attributes.tedapi:
        return False
    version = view.get("version()")
    found = re.match(r"\s*(\d+)\.(\d+)", version) if isinstance(version, str) else None
    return found is not None and (int(found[1]), int(found[2])) >= VITALS_REMOVED_IN
