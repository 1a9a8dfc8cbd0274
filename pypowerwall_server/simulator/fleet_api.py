"""The simulated Tesla Fleet API: the energy-site routes pypowerwall's FleetAPI client uses,
for every simulated gateway at once, on one HTTPS listener of its own (as the cloud is one
host for many sites). A fault on a gateway's port leaves the cloud up, and the reverse.

Routes (all need `Authorization: Bearer <access token>`; 401 otherwise):
- GET  /api/1/products: the energy sites this token may see;
- GET  /api/1/energy_sites/{id}/live_status | site_info | site_status |
  backup_time_remaining: read from the same site model the gateway serves;
- POST /api/1/energy_sites/{id}/backup {"backup_reserve_percent": 0-100 (app scale)},
  /operation {"default_real_mode": ...}, /grid_import_export
  {"disallow_charge_from_grid_with_solar_installed": bool,
  "customer_preferred_export_rule": ...}: applied to the site, answered
  {"response": {"code": 201, "message": "Updated"}} as Tesla does.
A site another token owns is 404, as one the account does not have. Nothing here ever
refreshes or issues tokens: the access tokens are set by the simulator (admin API).
"""

from __future__ import annotations

import json
import re
import secrets
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, get_args

from pypowerwall_server.simulator.config import SiteConfig
from pypowerwall_server.simulator.fleet_api_views import (
    backup_time_remaining,
    live_status,
    product,
    raw_percent,
    site_info,
    site_status,
)
from pypowerwall_server.simulator.interface import SimRequest, SimResponse, SimulatedGatewayApp
from pypowerwall_server.simulator.state import ExportRule, OperatingMode

FLEET_API_ID = "fleetapi"  # its listener's id in request logs and the admin API
SITE_PATH = re.compile(r"^/api/1/energy_sites/(?P<site>\d+)/(?P<what>[a-z_]+)$")
UPDATED = {"response": {"code": 201, "message": "Updated"}}
MAX_BODY_BYTES = 4096
RESERVE_CAP = 80  # Tesla's cloud accepts more and keeps 80 (pypowerwall PR #304)


@dataclass(frozen=True, slots=True)
class FleetSite:
    config: SiteConfig
    app: SimulatedGatewayApp
    storm_active: Callable[[], bool] = lambda: False  # a manual backup event holds it


class FleetApiError(Exception):
    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.error = error
        self.description = description


class SimulatedFleetApi:
    """Serves the Fleet API for a set of sites. Thread-safe."""

    def __init__(self, sites: Sequence[FleetSite], token: str | None = None) -> None:
        self._sites = {s.config.energy_site_id: s for s in sites}
        if len(self._sites) != len(sites):
            raise ValueError("energy site ids must be unique")
        self._lock = threading.Lock()
        self._tokens: dict[str, frozenset[int]] = {}
        self.token = self.add_token(token)

    # --- tokens (admin) -------------------------------------------------------------------

    def add_token(self, token: str | None = None, site_ids: Sequence[int] | None = None) -> str:
        """Accept an access token for these sites (default: all); returns the token."""
        token = token or secrets.token_urlsafe(32)
        allowed = frozenset(self._sites if site_ids is None else site_ids)
        if unknown := allowed - set(self._sites):
            raise ValueError(f"unknown energy site ids: {sorted(unknown)}")
        with self._lock:
            self._tokens[token] = allowed
        return token

    def revoke_token(self, token: str) -> bool:
        with self._lock:
            return self._tokens.pop(token, None) is not None

    def site_ids(self) -> list[int]:
        return list(self._sites)

    # --- requests -------------------------------------------------------------------------

    def handle(self, request: SimRequest) -> SimResponse:
        try:
            allowed = self._authorize(request)
            return _json(200, self._route(request, allowed))
        except FleetApiError as exc:
            body = {"response": None, "error": exc.error, "error_description": exc.description}
            return _json(exc.status, body)

    def _authorize(self, request: SimRequest) -> frozenset[int]:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and token:
            with self._lock:
                for known, sites in self._tokens.items():
                    if secrets.compare_digest(known.encode(), token.strip().encode()):
                        return sites
        raise FleetApiError(401, "invalid_token", "missing or invalid bearer token")

    def _route(self, request: SimRequest, allowed: frozenset[int]) -> Any:
        if request.path == "/api/1/products":
            _method(request, "GET")
            sites = [self._sites[i] for i in self._sites if i in allowed]
            products = [product(s.config, s.app.state()) for s in sites]
            return {"response": products, "count": len(products)}
        match = SITE_PATH.match(request.path)
        if match is None:
            raise FleetApiError(404, "not_found", f"no route {request.path}")
        site_id = int(match["site"])
        if site_id not in allowed:
            raise FleetApiError(404, "not_found", f"energy site {site_id} not found")
        site = self._sites[site_id]
        what = match["what"]
        if what in READS:
            _method(request, "GET")
            return {"response": READS[what](site)}
        if what in WRITES:
            _method(request, "POST")
            WRITES[what](site, _body(request))
            return UPDATED
        raise FleetApiError(404, "not_found", f"no route {request.path}")


def _method(request: SimRequest, expected: str) -> None:
    if request.method != expected:
        raise FleetApiError(405, "method_not_allowed", f"{request.path} takes {expected}")


def _body(request: SimRequest) -> dict[str, Any]:
    if len(request.body) > MAX_BODY_BYTES:
        raise FleetApiError(413, "payload_too_large", "body over 4 KB")
    try:
        data = json.loads(request.body or b"{}")
    except ValueError as exc:
        raise FleetApiError(400, "invalid_json", f"body is not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise FleetApiError(400, "invalid_json", "body must be a JSON object")
    return data


def _json(status: int, body: Any) -> SimResponse:
    return SimResponse(status, json.dumps(body).encode())


def _set_backup(site: FleetSite, body: dict[str, Any]) -> None:
    reserve = body.get("backup_reserve_percent")
    if not isinstance(reserve, int | float) or isinstance(reserve, bool) or not 0 <= reserve <= 100:
        raise FleetApiError(400, "invalid_field", "backup_reserve_percent must be 0-100")
    site.app.set_operation(None, raw_percent(float(min(reserve, RESERVE_CAP))))


def _set_operation(site: FleetSite, body: dict[str, Any]) -> None:
    mode = body.get("default_real_mode")
    if mode not in get_args(OperatingMode):
        raise FleetApiError(400, "invalid_field", f"default_real_mode {mode!r} unknown")
    site.app.set_operation(mode, None)


def _set_grid_import_export(site: FleetSite, body: dict[str, Any]) -> None:
    disallow = body.get("disallow_charge_from_grid_with_solar_installed")
    rule = body.get("customer_preferred_export_rule")
    if disallow is None and rule is None:
        raise FleetApiError(400, "invalid_field", "nothing to change")
    if disallow is not None and not isinstance(disallow, bool):
        raise FleetApiError(400, "invalid_field", "disallow_charge_... must be a boolean")
    if rule is not None and rule not in get_args(ExportRule):
        raise FleetApiError(400, "invalid_field", f"customer_preferred_export_rule {rule!r}")
    if disallow is not None:
        site.app.set_grid_charging(not disallow)
    if rule is not None:
        site.app.set_export_rule(rule)


READS: dict[str, Callable[[FleetSite], Any]] = {
    "live_status": lambda s: live_status(s.app.state(), s.storm_active()),
    "site_info": lambda s: site_info(s.config, s.app.state()),
    "site_status": lambda s: site_status(s.config, s.app.state()),
    "backup_time_remaining": lambda s: backup_time_remaining(s.app.state()),
}
WRITES: dict[str, Callable[[FleetSite, dict[str, Any]], None]] = {
    "backup": _set_backup,
    "operation": _set_operation,
    "grid_import_export": _set_grid_import_export,
}


def fleetapi_config(audience: str, token: str, site_id: int) -> dict[str, Any]:
    """The contents of pypowerwall's `.pypowerwall.fleetapi` for one simulated site: the
    AUDIENCE is the simulator, the refresh token a placeholder the simulator never sees
    (a refresh would go to auth.tesla.com: tests must block that, see docs/simulator.md)."""
    return {
        "CLIENT_ID": "simulated-client",
        "CLIENT_SECRET": "simulated-secret",
        "DOMAIN": "localhost",
        "REDIRECT_URI": "https://localhost/callback",
        "AUDIENCE": audience,
        "partner_token": "",
        "partner_account": {},
        "access_token": token,
        "refresh_token": "simulated-refresh-token",
        "site_id": site_id,
    }
