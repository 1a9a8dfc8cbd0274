"""The control routes: the legacy proxy's /control/<name> (default gateway) and
/gw/{id}/control/<name>, our JSON API under /api/gateways/{id}/control, the audit read route
and the unauthenticated overview (/api/control) a UI uses to show or hide its controls.

Thin: every decision is control/'s. Order for a write: control on (403) -> same origin (403)
-> no token in the URL (400) -> bounded body (413/415/400) -> token (401/429) -> value (400)
-> the write. Every refusal is audited (control/audit.py summarises their log lines)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from starlette.responses import JSONResponse, Response

from pypowerwall_server.api.control_body import BodyProblem, request_fields
from pypowerwall_server.api.openapi_responses import CONTROL
from pypowerwall_server.control import answers
from pypowerwall_server.control.auth import (
    Authorized,
    LockedOut,
    TokenInQuery,
    Unauthorized,
    presented_token,
)
from pypowerwall_server.control.commands import Command, Control, ExportRule, OperatingMode
from pypowerwall_server.control.values import (
    READABLE,
    ReadCurrent,
    ValueInvalid,
    parse_combined,
    parse_control,
)
from pypowerwall_server.control.wiring import ControlAccess
from pypowerwall_server.http.cross_origin import CROSS_ORIGIN, is_cross_origin
from pypowerwall_server.services import AppServices

router = APIRouter(tags=["control"], responses=CONTROL)
NO_STORE = {"Cache-Control": "no-store"}
AUDIT_DEFAULT, AUDIT_MAX = 20, 200


def _control(request: Request) -> ControlAccess:
    services: AppServices = request.app.state.services
    return services.control


def _default_gateway(request: Request) -> str:
    services: AppServices = request.app.state.services
    return services.hub.default_id


ControlDep = Annotated[ControlAccess, Depends(_control)]
DefaultGatewayDep = Annotated[str, Depends(_default_gateway)]
# Strings, not enums, in the code: any other name is the legacy proxy's 400, not a 422.
WritableName = Annotated[
    str, Path(description="the control", json_schema_extra={"enum": [c.value for c in Control]})
]
ReadableName = Annotated[
    str,
    Path(
        description="a control with a current value",
        json_schema_extra={"enum": [c.value for c in Control if c in READABLE]},
    ),
]
_COMBINED_FIELDS = {
    "reserve": {"type": "integer", "minimum": 0, "maximum": 100, "description": "app scale %"},
    "mode": {"type": "string", "enum": [m.value for m in OperatingMode]},
    "grid_export": {"type": "string", "enum": [r.value for r in ExportRule]},
}
COMBINED_BODY = {
    "requestBody": {
        "required": True,
        "description": "any of reserve, mode, grid_export (at least one); one bad part "
        "refuses the whole write. The token: Authorization: Bearer, or the form field token.",
        "content": {
            "application/json": {
                "schema": {"type": "object", "properties": _COMBINED_FIELDS, "minProperties": 1}
            },
            "application/x-www-form-urlencoded": {
                "schema": {
                    "type": "object",
                    "properties": {**_COMBINED_FIELDS, "token": {"type": "string"}},
                }
            },
        },
    }
}


def _send(answer: answers.Answer) -> Response:
    return JSONResponse(answer.body, answer.status, headers={**NO_STORE, **answer.headers})


def _client(request: Request) -> str:
    return request.client.host if request.client is not None else "unknown"


# --- reads: no token, as in the legacy proxy ------------------------------------------------
def _current(control: ControlAccess, gateway_id: str, name: str) -> Response:
    state = control.service.state(gateway_id)  # 404 for an unknown gateway
    if name == Control.DISPATCH.value:
        body: dict[str, object] = {"dispatch": control.service.dispatches.state(gateway_id)}
        return _send(answers.Answer(200, body))
    try:
        answer = answers.current(Control(name), state)
    except ValueError:
        answer = None
    if answer is None:
        detail = "readable: reserve, mode, grid_charging, grid_export, dispatch"
        return _send(answers.Answer(400, {"error": "Invalid Command Action", "detail": detail}))
    return _send(answer)


@router.get("/control/{name}")
def read_default(
    name: ReadableName, control: ControlDep, gateway_id: DefaultGatewayDep
) -> Response:
    """The current value of one control of the default gateway (no token needed)."""
    return _current(control, gateway_id, name)


@router.get("/gw/{gateway_id}/control/{name}")
def read_gateway(gateway_id: str, name: ReadableName, control: ControlDep) -> Response:
    """The current value of one control of a gateway (no token needed)."""
    return _current(control, gateway_id, name)


@router.get("/api/gateways/{gateway_id}/control/{name}")
def read_api(gateway_id: str, name: str, control: ControlDep) -> Response:
    """The current value of one control of a gateway (no token needed); `dispatch` says
    whether a battery dispatch runs, its power (W, + discharge) and when it ends."""
    return _current(control, gateway_id, name)


@router.get("/api/control")
def overview(control: ControlDep) -> Response:
    """Whether control is on, and what each gateway can write (no token, no secret)."""
    return _send(answers.Answer(200, control.overview()))


@router.get("/api/gateways/{gateway_id}/control")
def gateway_control(gateway_id: str, control: ControlDep) -> Response:
    """A gateway's control settings from memory, and whether it can be written."""
    state = control.service.state(gateway_id)
    target = control.service.target(gateway_id)
    body: dict[str, object] = {
        "gateway": gateway_id,
        "enabled": control.enabled,
        "transport": None if target.transport is None else target.transport.value,
        "reserve": state.reserve_percent,
        "mode": state.mode,
        "grid_charging": state.grid_charging,
        "grid_export": state.grid_export,
        "state_of_energy_percent": state.state_of_energy_percent,
        "grid_connected": state.grid_connected,
        "dispatch": control.service.dispatches.state(gateway_id),
    }
    return _send(answers.Answer(200, body))


# --- writes --------------------------------------------------------------------------------
async def _authorized_fields(
    request: Request, control: ControlAccess, gateway_id: str, what: str
) -> Mapping[str, object] | Response:
    """The request's fields once control is on, the body is acceptable and the token is
    right; otherwise the answer to send (audited when a token was wrong)."""
    if control.guard is None:
        return _send(answers.disabled())
    control.service.target(gateway_id)  # 404 before anything else is read
    client = _client(request)
    early = _early_refusal(request)
    if early is not None:
        control.service.refuse_unauthorized(gateway_id, client, what, early.refusal)
        return _send(early.answer)
    fields = await request_fields(request)
    if isinstance(fields, BodyProblem):
        control.service.refuse_unauthorized(gateway_id, client, what, f"refused: {fields.status}")
        return _send(answers.Answer(fields.status, {"error": fields.message}))
    presented = presented_token(request.headers.get("authorization"), fields, {})
    assert not isinstance(presented, TokenInQuery)  # no query passed
    result = control.guard.check(client, presented)
    if not isinstance(result, Authorized):
        control.service.refuse_unauthorized(gateway_id, client, what, _token_refusal(result))
        return _send(answers.unauthorized(result))
    return {name: value for name, value in fields.items() if name != "token"}


@dataclass(frozen=True, slots=True)
class _Refused:
    answer: answers.Answer
    refusal: str  # as audited


def _early_refusal(request: Request) -> _Refused | None:
    """Refusals that need neither the body nor the token: a page of another origin (it must
    not even count as a failure) and a token in the URL."""
    if is_cross_origin(request.headers):
        return _Refused(answers.Answer(403, {"error": CROSS_ORIGIN}), "refused: cross-origin")
    in_query = presented_token(None, {}, request.query_params)
    if isinstance(in_query, TokenInQuery):
        return _Refused(answers.unauthorized(in_query), "refused: token in URL")
    return None


def _token_refusal(result: Unauthorized | LockedOut) -> str:
    return "refused: locked out" if isinstance(result, LockedOut) else "refused: invalid token"


async def _write(request: Request, control: ControlAccess, gateway_id: str, name: str) -> Response:
    fields = await _authorized_fields(request, control, gateway_id, name)
    if isinstance(fields, Response):
        return fields
    parsed = parse_control(name, fields)
    if isinstance(parsed, ReadCurrent):
        return _current(control, gateway_id, parsed.control.value)
    return await _run(request, control, gateway_id, name, parsed)


async def _run(
    request: Request,
    control: ControlAccess,
    gateway_id: str,
    what: str,
    parsed: Command | ValueInvalid,
) -> Response:
    client = _client(request)
    if isinstance(parsed, ValueInvalid):
        control.service.refuse(gateway_id, client, what, None, "refused: invalid value")
        return _send(answers.invalid(parsed))
    return _send(await control.service.write(gateway_id, client, parsed))


@router.post("/control/{name}")
async def write_default(
    name: WritableName, request: Request, control: ControlDep, gateway_id: DefaultGatewayDep
) -> Response:
    """Set one control of the default gateway: form `value=...&token=...` (legacy) or JSON
    `{"value": ...}` with `Authorization: Bearer <secret>` (evcc)."""
    return await _write(request, control, gateway_id, name)


@router.post("/gw/{gateway_id}/control/{name}")
async def write_gateway(
    gateway_id: str, name: WritableName, request: Request, control: ControlDep
) -> Response:
    """Set one control of a gateway (as /control/{name})."""
    return await _write(request, control, gateway_id, name)


@router.post("/api/gateways/{gateway_id}/control/{name}")
async def write_api(
    gateway_id: str, name: WritableName, request: Request, control: ControlDep
) -> Response:
    """Set one control of a gateway: JSON `{"value": ...}`, `Authorization: Bearer`."""
    return await _write(request, control, gateway_id, name)


@router.post("/api/gateways/{gateway_id}/control", openapi_extra=COMBINED_BODY)
async def write_combined(gateway_id: str, request: Request, control: ControlDep) -> Response:
    """Set reserve, mode and grid_export together (any of them); each part is reported."""
    fields = await _authorized_fields(request, control, gateway_id, "combined")
    if isinstance(fields, Response):
        return fields
    return await _run(request, control, gateway_id, "combined", parse_combined(fields))


@router.get("/api/control/audit")
async def audit(request: Request, control: ControlDep) -> Response:
    """The last write attempts, newest first (`?limit=N`, at most 200); needs the token."""
    if control.guard is None:
        return _send(answers.disabled())
    client = _client(request)
    early = _early_refusal(request)
    if early is not None:
        control.service.refuse_unauthorized("-", client, "audit", early.refusal)
        return _send(early.answer)
    presented = presented_token(request.headers.get("authorization"), {}, {})
    assert not isinstance(presented, TokenInQuery)  # no query passed
    result = control.guard.check(client, presented)
    if not isinstance(result, Authorized):
        control.service.refuse_unauthorized("-", client, "audit", _token_refusal(result))
        return _send(answers.unauthorized(result))
    limit_text = request.query_params.get("limit", "")
    limit = int(limit_text) if limit_text.isdigit() else AUDIT_DEFAULT
    entries = [entry.as_dict() for entry in control.audit.recent(min(limit, AUDIT_MAX))]
    return _send(answers.Answer(200, {"entries": entries}))
