"""One simulated Tesla Energy Gateway: the semantics behind the transport (interface.py).

Routes each request to login, the local customer API (local_api.py), TEDAPI (tedapi.py)
or signed v1r (v1r_auth.py, v1r_messages.py), enforces sessions, and exposes the admin
controls. Thread-safe: one lock guards the physical model; the transport may call from an
event loop and tests from other threads.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from pypowerwall_server.simulator.config import SiteConfig
from pypowerwall_server.simulator.gateway_auth import (
    MalformedBody,
    SessionStore,
    login_cookies,
    parse_body,
    request_token,
    user_record,
)
from pypowerwall_server.simulator.interface import SimRequest, SimResponse
from pypowerwall_server.simulator.local_api import ROUTES, operation, render
from pypowerwall_server.simulator.local_api_formats import go_timestamp
from pypowerwall_server.simulator.model import SiteModel
from pypowerwall_server.simulator.state import ExportRule, OperatingMode, SiteState
from pypowerwall_server.simulator.tedapi import (
    answer_envelope,
    din_response,
    handle_tedapi,
    is_tedapi_request,
    render_devices_vitals,
)
from pypowerwall_server.simulator.tedapi_proto import BadRequest
from pypowerwall_server.simulator.v1r_auth import (
    Fault,
    KeyRing,
    KeyState,
    RegisteredKey,
    fault_response,
    not_verified_response,
    verify,
    wrap_response,
)
from pypowerwall_server.simulator.v1r_messages import ManualBackup, NotV1rCommand, handle_command

log = logging.getLogger(__name__)

PUBLIC_PATHS = frozenset({"/api/status"})  # answered without a session, as on real gateways
V1R_PATH = "/tedapi/v1r"
PROTOBUF = "application/octet-stream"
FIRST_FIRMWARE_WITHOUT_VITALS = (23, 44, 0)
STATE_REFRESH_S = 0.1  # real seconds a computed state is reused; controls refresh at once
MODES: dict[object, OperatingMode] = {
    "self_consumption": "self_consumption",
    "backup": "backup",
    "autonomous": "autonomous",
}


def json_response(status: int, body: Any, headers: tuple[tuple[str, str], ...] = ()) -> SimResponse:
    return SimResponse(status=status, body=json.dumps(body).encode(), headers=headers)


def error(status: int, error_text: str, message: str) -> SimResponse:
    return json_response(status, {"code": status, "error": error_text, "message": message})


NOT_FOUND = SimResponse(status=404, body=b"404 page not found\n", content_type="text/plain")
UNAUTHORIZED = error(401, "Unable to GET to resource", "User does not have adequate access rights")
BAD_CREDENTIALS = error(401, "bad credentials", "Login Error")


class SimulatedGateway:
    def __init__(self, config: SiteConfig, clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self._clock = clock
        self._lock = threading.Lock()
        self._model = SiteModel(config, clock())
        self._sessions = SessionStore(clock)
        self._refuse_auth = False
        self._cached: tuple[float, SiteState] | None = None
        self.v1r_keys = KeyRing()
        self._manual_backup: ManualBackup | None = None
        self._apply_delay_s = 0.0  # the slow_apply fault
        self._late: list[tuple[float, Callable[[SiteModel], None]]] = []  # (due, change)

    # --- requests ---
    def handle(self, request: SimRequest) -> SimResponse:
        try:
            return self._route(request)
        except Exception:  # the contract: never raise into the transport
            log.exception("simulated gateway %s failed on %s", self.config.gateway_id, request.path)
            return error(500, "internal error", "simulator failure")

    def _route(self, request: SimRequest) -> SimResponse:
        if request.path == V1R_PATH:
            return self._v1r(request)
        if request.path == "/tedapi/din" and self._has_session(request):
            return din_response(request, self.state())  # v1r clients log in, then ask
        if is_tedapi_request(request):
            return handle_tedapi(request, self.state(), self.config.gw_pwd, self._refuse_auth)
        if request.path == "/api/login/Basic":
            return self._login(request) if request.method == "POST" else NOT_FOUND
        if request.path == "/api/logout":
            self._sessions.revoke(request_token(request.headers))
            return SimResponse(status=204, content_type="text/plain")
        if request.path == "/api/operation" and request.method == "POST":
            return self._authorized(request) or self._post_operation(request)
        if request.method != "GET":
            return error(405, "method not allowed", f"{request.method} {request.path}")
        if request.path == "/api/devices/vitals":
            return self._authorized(request) or self._devices_vitals()
        return self._get(request)

    def _get(self, request: SimRequest) -> SimResponse:
        if request.path not in ROUTES:
            return NOT_FOUND
        if request.path not in PUBLIC_PATHS and (denied := self._authorized(request)):
            return denied
        _, body = render(request.path, self.state(), self.config)
        return json_response(200, body)

    def _authorized(self, request: SimRequest) -> SimResponse | None:
        """None when the request carries a live session, else the 401 to send."""
        if self._has_session(request):
            return None
        return UNAUTHORIZED

    def _has_session(self, request: SimRequest) -> bool:
        return self._sessions.is_valid(request_token(request.headers))

    def _v1r(self, request: SimRequest) -> SimResponse:
        """A signed request over the wired LAN: the login session (cookie) and the RSA
        signature of a registered key are both required."""
        if request.method != "POST":
            return error(405, "method not allowed", f"{request.method} {request.path}")
        if denied := self._authorized(request):
            return denied
        # Signatures expire by the wall clock the client signed with, whatever the
        # site's (possibly simulated) clock says.
        verdict = verify(request.body, self.config.gateway_din, self.v1r_keys, time.time())
        if verdict.fault is not Fault.NONE:
            return SimResponse(200, fault_response(verdict), PROTOBUF)
        if verdict.pending:
            return SimResponse(200, not_verified_response(verdict), PROTOBUF)
        try:
            inner = handle_command(verdict.inner, self)
        except NotV1rCommand:
            try:
                inner = answer_envelope(self.state(), verdict.inner)
            except BadRequest as exc:
                return error(400, "bad request", str(exc))
            except LookupError as exc:
                return error(404, "not found", str(exc))
        return SimResponse(200, wrap_response(verdict, inner), PROTOBUF)

    def _login(self, request: SimRequest) -> SimResponse:
        try:
            fields = parse_body(request)
        except MalformedBody as exc:
            return error(400, "bad request", f"malformed login body: {exc}")
        accepted = {self.config.customer_password, self.config.derived_customer_password}
        password = fields.get("password")
        if self._refuse_auth or fields.get("username") != "customer" or password not in accepted:
            return BAD_CREDENTIALS
        token = self._sessions.create()
        email = str(fields.get("email") or self.config.customer_email)
        record = user_record(email, token, go_timestamp(self._clock(), self.config.timezone))
        return json_response(200, record, login_cookies(token, record))

    def _post_operation(self, request: SimRequest) -> SimResponse:
        try:
            fields = parse_body(request)
        except MalformedBody as exc:
            return error(400, "bad request", f"malformed body: {exc}")
        mode = fields.get("real_mode")
        reserve = fields.get("backup_reserve_percent")
        if mode is not None and mode not in MODES:
            return error(400, "bad request", f"unknown real_mode {mode!r}")
        if reserve is not None and not _is_percent(reserve):
            return error(400, "bad request", f"invalid backup_reserve_percent {reserve!r}")
        self.set_operation(
            None if mode is None else MODES[mode],
            None if reserve is None else float(reserve),  # type: ignore[arg-type]
        )
        return json_response(200, operation(self.state(), self.config))

    def _devices_vitals(self) -> SimResponse:
        site = self.state()
        if firmware_tuple(site.firmware_version) >= FIRST_FIRMWARE_WITHOUT_VITALS:
            return NOT_FOUND
        return SimResponse(
            status=200, body=render_devices_vitals(site), content_type="application/octet-stream"
        )

    # --- state and controls ---
    def state(self) -> SiteState:
        with self._lock:
            now = self._clock()
            self._apply_due(now)
            if self._cached is not None and 0 <= now - self._cached[0] < STATE_REFRESH_S:
                return self._cached[1]
            self._model.advance(now)
            state = self._model.state()
            self._cached = (now, state)
            return state

    def _change(self, change: Callable[[SiteModel], None]) -> None:
        """Apply a control at the current instant: the past integrates with the old
        settings, and the next state() reflects the change."""
        with self._lock:
            self._model.advance(self._clock())
            change(self._model)
            self._cached = None

    def set_grid_up(self, up: bool) -> None:
        self._change(lambda model: model.set_grid_up(up))

    def set_operation(self, mode: OperatingMode | None, reserve_raw_percent: float | None) -> None:
        self._setting(lambda model: model.set_operation(mode, reserve_raw_percent))

    def set_grid_charging(self, enabled: bool) -> None:
        self._setting(lambda model: model.set_grid_charging(enabled))

    def set_export_rule(self, rule: ExportRule) -> None:
        self._setting(lambda model: model.set_export_rule(rule))

    def set_apply_delay(self, seconds: float) -> None:
        """Settings writes accepted from now on apply `seconds` real seconds later (the
        slow_apply fault; 0: at once). Writes already waiting keep their time."""
        with self._lock:
            self._apply_delay_s = seconds

    def _setting(self, change: Callable[[SiteModel], None]) -> None:
        """A settings write: at once, or queued while the slow_apply fault is active (a
        gateway that accepted a write but does not show it yet)."""
        with self._lock:
            if self._apply_delay_s > 0:
                self._late.append((time.monotonic() + self._apply_delay_s, change))
                return
        self._change(change)

    def _apply_due(self, now: float) -> None:
        """Queued writes whose time has come, in order (call with the lock held)."""
        ready = time.monotonic()
        due = [change for at, change in self._late if at <= ready]
        if not due:
            return
        self._late = [(at, change) for at, change in self._late if at > ready]
        self._model.advance(now)
        for change in due:
            change(self._model)
        self._cached = None

    def set_manual_backup(self, event: ManualBackup | None) -> None:
        """A manual backup event (max backup / storm watch): the battery is held as with
        a 100 % reserve until start + duration (wall-clock epoch seconds, as the client
        sends them); None cancels it."""
        with self._lock:
            self._manual_backup = event
        if event is None:
            self._change(lambda model: model.set_manual_backup(None))
            return
        remaining = max(0.0, event.start_time + event.duration_seconds - time.time())
        self._change(lambda model: model.set_manual_backup(remaining))

    def manual_backup(self) -> ManualBackup | None:
        """The last scheduled event, kept after it ends until cancelled (as the gateway)."""
        with self._lock:
            return self._manual_backup

    def manual_backup_active(self) -> bool:
        event = self.manual_backup()
        return event is not None and time.time() < event.start_time + event.duration_seconds

    def set_dispatch(self, power_w: float | None, duration_s: float = 0.0) -> None:
        """A battery dispatch over v1r: `power_w` (+ discharge) for `duration_s` seconds of
        the site's clock; None resumes the configured mode."""
        self._change(lambda model: model.set_dispatch(power_w, duration_s))

    def register_v1r_key(self, pem: bytes | str, *, verified: bool = True) -> RegisteredKey:
        """Pair an RSA-4096 public key (PEM) as `python -m pypowerwall register` would,
        verified at once (the on/off toggle done) unless `verified` is False."""
        return self.v1r_keys.register(pem, KeyState.VERIFIED if verified else KeyState.PENDING)

    def set_wrong_password_mode(self, enabled: bool) -> None:
        """Like a changed password: existing sessions end and every login is refused."""
        self._refuse_auth = enabled
        if enabled:
            self._sessions.revoke_all()

    def set_missing_powerwall(self, index: int | None) -> None:
        self._change(lambda model: setattr(model, "missing_index", index))

    def set_solar_only(self, enabled: bool) -> None:
        self._change(lambda model: setattr(model, "solar_only", enabled))

    def set_firmware(self, version: str) -> None:
        self._change(lambda model: setattr(model, "firmware_version", version))

    def set_extra_alert(self, name: str | None) -> None:
        self._change(lambda model: setattr(model, "extra_alert", name))

    def expire_sessions(self) -> None:
        """End every login session (as a gateway reboot would); clients must log in again."""
        self._sessions.revoke_all()


def _is_percent(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= 100


def firmware_tuple(version: str) -> tuple[int, ...]:
    """(24, 44, 1) for "24.44.1 c58c2df3"; unparseable parts count as 0."""
    numbers = version.split(" ")[0].split(".")
    return tuple(int(n) if n.isdigit() else 0 for n in ([*numbers, "0", "0", "0"])[:3])
