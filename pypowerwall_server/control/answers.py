"""Status codes and JSON bodies for every control result, in one table-like place.

Pure (no web framework): a route turns an `Answer` into its response. Texts that existing
clients know are the legacy proxy's (../shared/control-contract.md); `detail` adds ours.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pypowerwall_server.control.auth import TOKEN_INVALID, LockedOut, TokenInQuery, Unauthorized
from pypowerwall_server.control.commands import Control
from pypowerwall_server.control.limits import NotOnTransport, NoWritePath, OverLimit, Refusal
from pypowerwall_server.control.readback import ControlState
from pypowerwall_server.control.values import ValueInvalid
from pypowerwall_server.control.writes import (
    FailureKind,
    PartOutcome,
    Unresolvable,
    WriteOutcome,
    WriteStatus,
)

CONTROL_DISABLED = "Control Commands Disabled - Set PW_CONTROL_SECRET to enable"
UNRESOLVABLE_RETRY_AFTER = 5  # seconds: about one poll


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: dict[str, object]
    headers: dict[str, str] = field(default_factory=dict)


def disabled() -> Answer:
    """Control is off (no secret configured): every write is a 403; reads still work."""
    return Answer(403, {"error": CONTROL_DISABLED})


def invalid(problem: ValueInvalid) -> Answer:
    return Answer(400, {"error": problem.error, "detail": problem.detail})


def unauthorized(result: Unauthorized | LockedOut | TokenInQuery) -> Answer:
    match result:
        case Unauthorized():
            return Answer(401, {"unauthorized": TOKEN_INVALID})
        case LockedOut(retry_after):
            headers = {"Retry-After": str(retry_after)}
            return Answer(429, {"error": result.message}, headers)
        case TokenInQuery(message):
            return Answer(400, {"error": message})


def refused(refusal: Refusal | Unresolvable) -> Answer:
    match refusal:
        case NoWritePath(message) | NotOnTransport(message):
            return Answer(409, {"error": message})
        case OverLimit(message):
            return Answer(400, {"error": message})
        case Unresolvable(message):
            headers = {"Retry-After": str(UNRESOLVABLE_RETRY_AFTER)}
            return Answer(503, {"error": message}, headers)


_FAILURE_STATUS = {FailureKind.REJECTED: 400, FailureKind.TIMEOUT: 504, FailureKind.GATEWAY: 503}


def written(outcome: WriteOutcome) -> Answer:
    """200 for applied and pending (clients treat anything else as failure; `status` says
    which); a failure keeps the legacy `{"error": "Failed to set ..."}` shape."""
    body: dict[str, object] = {
        "gateway": outcome.gateway_id,
        "status": outcome.status.value,
        "parts": {part.control.value: _part(part) for part in outcome.parts},
    }
    if outcome.status is WriteStatus.CAPPED:  # never a silent success: say what it holds
        body["note"] = next(p.detail for p in outcome.parts if p.status is WriteStatus.CAPPED)
    if outcome.status is not WriteStatus.FAILED or outcome.failure is None:
        return Answer(200, body)
    what = "+".join(part.control.value for part in outcome.parts)
    failed = {"error": f"Failed to set {what}", "detail": outcome.message}
    return Answer(_FAILURE_STATUS[outcome.failure], failed | body)


def _part(part: PartOutcome) -> dict[str, object]:
    return {
        "requested": part.requested,
        "old": part.old,
        "read_back": part.read_back,
        "status": part.status.value,
        "detail": part.detail,
    }


def current(control: Control, state: ControlState) -> Answer | None:
    """GET /control/<name>: the value from memory, as the legacy proxy shapes it (None =
    unknown, never a made-up 0). None for controls without a readable value."""
    value: object
    match control:
        case Control.RESERVE:
            value = state.reserve_percent
        case Control.MODE:
            value = state.mode
        case Control.GRID_CHARGING:
            value = state.grid_charging
        case Control.GRID_EXPORT:
            value = state.grid_export
        case _:
            return None
    return Answer(200, {control.value: value})
