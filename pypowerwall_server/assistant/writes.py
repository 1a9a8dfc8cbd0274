"""The control tools: the control routes' rules for assistants. The same Bearer token (the
HTTP request's Authorization header), the same lockout, the same parsing, limits, read-back
and audit (client "mcp:<address>"); only offered while control is on."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pypowerwall_server.assistant.reads import ToolFailure
from pypowerwall_server.control import answers
from pypowerwall_server.control.auth import Authorized, TokenInQuery, presented_token
from pypowerwall_server.control.values import (
    VALUE_INVALID,
    ReadCurrent,
    ValueInvalid,
    parse_control,
)
from pypowerwall_server.control.wiring import ControlAccess

AUDIT_PREFIX = "mcp:"


class Writes:
    def __init__(self, control: ControlAccess, default_gateway: str) -> None:
        self._control = control
        self._default = default_gateway

    async def write(
        self,
        name: str,
        fields: Mapping[str, object],
        gateway: str | None,
        authorization: str | None,
        address: str,
    ) -> dict[str, Any]:
        """One control write as POST /api/gateways/{id}/control/{name} does it; a refusal
        (control off, token, value, transport) raises ToolFailure with the route's text."""
        control, gateway_id = self._control, gateway or self._default
        guard = control.guard
        if guard is None:
            raise ToolFailure(answers.CONTROL_DISABLED)
        control.service.target(gateway_id)  # UnknownGateway for a gateway not configured
        client = AUDIT_PREFIX + address
        presented = presented_token(authorization, {}, {})
        assert not isinstance(presented, TokenInQuery)  # no query passed
        checked = guard.check(address, presented)  # the routes' lockout, per address
        if not isinstance(checked, Authorized):
            control.service.refuse(gateway_id, client, name, None, "refused: invalid token")
            raise ToolFailure(_message(answers.unauthorized(checked)))
        parsed = parse_control(name, fields)
        if isinstance(parsed, ReadCurrent | ValueInvalid):
            control.service.refuse(gateway_id, client, name, None, "refused: invalid value")
            detail = parsed.detail if isinstance(parsed, ValueInvalid) else "a value is required"
            raise ToolFailure(f"{VALUE_INVALID}: {detail}")
        answer = await control.service.write(gateway_id, client, parsed)
        if answer.status != 200:
            raise ToolFailure(_message(answer))
        return answer.body


def _message(answer: answers.Answer) -> str:
    body = answer.body
    text = body.get("error") or body.get("unauthorized") or f"HTTP {answer.status}"
    detail = body.get("detail")
    retry = answer.headers.get("Retry-After")
    shown = f"{text} ({detail})" if detail else str(text)
    return f"{shown}; retry after {retry} s" if retry else shown
