"""Status codes and bodies for each control result, legacy texts where clients know them."""

from __future__ import annotations

import pytest

from pypowerwall_server.control import answers
from pypowerwall_server.control.auth import LockedOut, TokenInQuery, Unauthorized
from pypowerwall_server.control.commands import Control
from pypowerwall_server.control.limits import NotOnTransport, NoWritePath
from pypowerwall_server.control.readback import ControlState
from pypowerwall_server.control.values import ValueInvalid
from pypowerwall_server.control.writes import (
    FailureKind,
    PartOutcome,
    Unresolvable,
    WriteOutcome,
    WriteStatus,
)


def test_disabled_is_a_403_saying_how_to_enable() -> None:
    answer = answers.disabled()
    assert answer.status == 403
    assert answer.body == {"error": "Control Commands Disabled - Set PW_CONTROL_SECRET to enable"}


def test_invalid_value_keeps_the_legacy_text() -> None:
    answer = answers.invalid(ValueInvalid("Control Command Value Invalid", "reserve 0-100"))
    assert (answer.status, answer.body) == (
        400,
        {"error": "Control Command Value Invalid", "detail": "reserve 0-100"},
    )


@pytest.mark.parametrize(
    ("result", "status", "body", "headers"),
    [
        (Unauthorized(3), 401, {"unauthorized": "Control Command Token Invalid"}, {}),
        (
            LockedOut(42),
            429,
            {"error": "too many invalid control tokens; retry after 42 seconds"},
            {"Retry-After": "42"},
        ),
        (TokenInQuery(), 400, {"error": TokenInQuery().message}, {}),
    ],
)
def test_auth_answers(
    result: Unauthorized | LockedOut | TokenInQuery,
    status: int,
    body: dict[str, object],
    headers: dict[str, str],
) -> None:
    answer = answers.unauthorized(result)
    assert (answer.status, answer.body, answer.headers) == (status, body, headers)


@pytest.mark.parametrize(
    ("refusal", "status", "headers"),
    [
        (NoWritePath("configure v1r"), 409, {}),
        (NotOnTransport("needs v1r"), 409, {}),
        (Unresolvable("soe unknown"), 503, {"Retry-After": "5"}),
    ],
)
def test_refusal_answers(
    refusal: NoWritePath | NotOnTransport | Unresolvable,
    status: int,
    headers: dict[str, str],
) -> None:
    answer = answers.refused(refusal)
    assert (answer.status, answer.body, answer.headers) == (
        status,
        {"error": refusal.message},
        headers,
    )


def part(control: Control, status: WriteStatus, detail: str | None = None) -> PartOutcome:
    return PartOutcome(control, 80, 20.0, 80.0, status, detail)


@pytest.mark.parametrize("status", [WriteStatus.APPLIED, WriteStatus.PENDING])
def test_applied_and_pending_are_200_with_the_read_back(status: WriteStatus) -> None:
    answer = answers.written(WriteOutcome("home", (part(Control.RESERVE, status),)))
    assert answer.status == 200
    assert answer.body == {
        "gateway": "home",
        "status": status.value,
        "parts": {
            "reserve": {
                "requested": 80,
                "old": 20.0,
                "read_back": 80.0,
                "status": status.value,
                "detail": None,
            }
        },
    }


@pytest.mark.parametrize(
    ("kind", "status"),
    [(FailureKind.REJECTED, 400), (FailureKind.TIMEOUT, 504), (FailureKind.GATEWAY, 503)],
)
def test_failures_keep_the_legacy_error_shape(kind: FailureKind, status: int) -> None:
    parts = (part(Control.RESERVE, WriteStatus.FAILED), part(Control.MODE, WriteStatus.FAILED))
    answer = answers.written(WriteOutcome("home", parts, kind, "why"))
    assert answer.status == status
    assert answer.body["error"] == "Failed to set reserve+mode"
    assert answer.body["detail"] == "why"
    assert answer.body["status"] == "failed"


@pytest.mark.parametrize(
    ("control", "state", "body"),
    [
        (Control.RESERVE, ControlState(reserve_percent=20.0), {"reserve": 20.0}),
        (Control.RESERVE, ControlState(), {"reserve": None}),  # unknown, never a made-up 0
        (Control.MODE, ControlState(mode="backup"), {"mode": "backup"}),
        (Control.GRID_CHARGING, ControlState(grid_charging=False), {"grid_charging": False}),
        (Control.GRID_EXPORT, ControlState(grid_export="never"), {"grid_export": "never"}),
    ],
)
def test_current_values_in_the_legacy_shape(
    control: Control, state: ControlState, body: dict[str, object]
) -> None:
    answer = answers.current(control, state)
    assert answer is not None and (answer.status, answer.body) == (200, body)


@pytest.mark.parametrize("control", [Control.RESERVE_HOLD, Control.OFF_GRID, Control.MAX_BACKUP])
def test_controls_without_a_stored_value_have_no_current_answer(control: Control) -> None:
    assert answers.current(control, ControlState(reserve_percent=1.0)) is None
