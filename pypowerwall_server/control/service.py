"""One write end to end, as a route or MQTT handler calls it after parsing and the token
check: plan (resolve, limits), run on the gateway's worker, read back, audit, answer."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from dataclasses import fields

from pypowerwall_server.control import answers
from pypowerwall_server.control.audit import AuditTrail, value_text
from pypowerwall_server.control.commands import Command, Control, DispatchBattery, controls_of
from pypowerwall_server.control.dispatch import DispatchTracker
from pypowerwall_server.control.follow_up import FollowUps
from pypowerwall_server.control.limits import NotOnTransport, NoWritePath, OverLimit
from pypowerwall_server.control.readback import ControlState, Value, read_back
from pypowerwall_server.control.writes import (
    ControlSupervisor,
    ControlTarget,
    Unresolvable,
    WriteOutcome,
    WritePlan,
    WriteStatus,
    execute_write,
    plan_write,
)
from pypowerwall_server.errors import UnknownGateway

WRITE_TIMEOUT = 10.0  # seconds for the library calls on the worker
REFRESH_TIMEOUT = 4.0  # seconds to wait for the read-back; both fit in evcc's 15 s


class ControlService:
    def __init__(
        self,
        supervisor: ControlSupervisor,
        targets: Mapping[str, ControlTarget],
        audit: AuditTrail,
        *,
        write_timeout: float = WRITE_TIMEOUT,
        refresh_timeout: float = REFRESH_TIMEOUT,
        follow_ups: FollowUps | None = None,
        dispatches: DispatchTracker | None = None,
    ) -> None:
        self._supervisor = supervisor
        self._targets = dict(targets)
        self._audit = audit
        self._write_timeout = write_timeout
        self._refresh_timeout = refresh_timeout
        self._follow_ups = follow_ups
        self.dispatches = dispatches or DispatchTracker()
        # One write at a time per gateway (the gateway's worker runs them one by one
        # anyway): each reads its `old` after the one before has been read back.
        self._write_locks: dict[str, asyncio.Lock] = {}

    def target(self, gateway_id: str) -> ControlTarget:
        try:
            return self._targets[gateway_id]
        except KeyError:
            raise UnknownGateway(gateway_id) from None

    def targets(self) -> Mapping[str, ControlTarget]:
        return dict(self._targets)

    def state(self, gateway_id: str) -> ControlState:
        self.target(gateway_id)
        return self._supervisor.control_state(gateway_id)

    async def write(self, gateway_id: str, client: str, command: Command) -> answers.Answer:
        """Every attempt that reaches here is audited once, whatever its result."""
        target = self.target(gateway_id)
        lock = self._write_locks.setdefault(gateway_id, asyncio.Lock())
        async with lock:
            return await self._write(target, gateway_id, client, command)

    async def _write(
        self, target: ControlTarget, gateway_id: str, client: str, command: Command
    ) -> answers.Answer:
        old = self._supervisor.control_state(gateway_id)
        planned = plan_write(target, command, old)
        if not isinstance(planned, WritePlan):
            self._record(client, gateway_id, command, old, _refusal_text(planned))
            return answers.refused(planned)
        outcome = await execute_write(
            self._supervisor,
            planned,
            timeout=self._write_timeout,
            refresh_timeout=self._refresh_timeout,
        )
        self._record_outcome(client, command, outcome)
        self.dispatches.note(gateway_id, command, outcome.status is not WriteStatus.FAILED)
        if self._follow_ups is not None:
            self._follow_ups.add(outcome)  # pending parts: look again in a few seconds
        return answers.written(outcome)

    def refuse_unauthorized(self, gateway_id: str, client: str, what: str, result: str) -> None:
        """Audit an attempt refused before its token was accepted (origin, URL token, body,
        token): kept apart from the writes, logged in summary."""
        self._audit.refused(client=client, gateway_id=gateway_id, what=what, result=result)

    def refuse(self, gateway_id: str, client: str, what: str, value: Value, result: str) -> None:
        """Audit an attempt with the right token refused before a command existed."""
        self._audit.record(
            client=client, gateway_id=gateway_id, what=what, old=None, new=value, result=result
        )

    def _record(
        self, client: str, gateway_id: str, command: Command, old: ControlState, result: str
    ) -> None:
        controls = controls_of(command)
        self._audit.record(
            client=client,
            gateway_id=gateway_id,
            what=_joined(c.value for c in controls),
            old=_joined(_text(read_back(c, old)) for c in controls),
            new=_describe(command),
            result=result,
        )

    def _record_outcome(self, client: str, asked: Command, outcome: WriteOutcome) -> None:
        parts = outcome.parts
        result = outcome.status.value
        if outcome.failure is not None:
            result = f"{result} ({outcome.failure.value})"
        self._audit.record(
            client=client,
            gateway_id=outcome.gateway_id,
            what=_joined(_what(asked, p.control) for p in parts),
            old=_joined(_text(p.old) for p in parts),
            new=_describe(asked)  # a dispatch's duration too
            if isinstance(asked, DispatchBattery)
            else _joined(_text(p.requested) for p in parts),
            result=result,
        )


def _what(asked: Command, control: Control) -> str:
    """A reserve hold is audited as such, not as a plain reserve."""
    held = Control.RESERVE_HOLD in controls_of(asked)
    return "reserve_hold" if held and control is Control.RESERVE else control.value


def _refusal_text(refusal: NoWritePath | NotOnTransport | OverLimit | Unresolvable) -> str:
    kind = {
        NoWritePath: "no write transport",
        NotOnTransport: "not on this transport",
        OverLimit: "over the site's limit",
        Unresolvable: "value not known yet",
    }[type(refusal)]
    return f"refused: {kind}"


def _describe(command: Command) -> str:
    """The requested values, e.g. "80,backup"; the command's name when it has none."""
    values = [getattr(command, f.name) for f in fields(command)]
    return _joined(_text(v) for v in values if v is not None) or type(command).__name__


def _text(value: Value) -> str:
    return value_text(value) or "?"


def _joined(texts: Iterable[str]) -> str:
    return ",".join(texts)
