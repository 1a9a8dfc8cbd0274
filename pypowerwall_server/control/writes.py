"""Planning and running one write on a gateway, and the honest outcome read back after it.

A write runs as ONE operation on the gateway's serial worker (never beside its poll), then
the slow tier (reserve, mode, config, grid status) is refreshed at once and read back: a
part is `applied` when the read-back shows the requested value, `pending` when the gateway
accepted it but does not show it (yet), `failed` when the library refused it, the call
raised, or the gateway did not answer in time.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol, TypeVar

from pypowerwall_server.control.commands import Command, Control, HoldReserve, SetReserve
from pypowerwall_server.control.dispatch import site_limit_problem
from pypowerwall_server.control.limits import (
    LIMITS,
    NoWritePath,
    Refusal,
    WriteTransport,
    check_command,
    reserve_cap,
)
from pypowerwall_server.control.operations import (
    LibraryCall,
    PowerwallWriter,
    call_failure,
    library_calls,
)
from pypowerwall_server.control.readback import (
    ControlState,
    Value,
    expected_values,
    read_back,
    shows,
)
from pypowerwall_server.errors import ServerError

log = logging.getLogger(__name__)
T = TypeVar("T")


class ControlSupervisor(Protocol):
    """What control needs from the gateway supervisor."""

    async def submit(
        self, gateway_id: str, operation: Callable[[PowerwallWriter], T], timeout: float
    ) -> T:
        """Run `operation` on the gateway's worker; raise TimeoutError after `timeout` s."""
        ...

    async def refresh_slow_tier(self, gateway_id: str) -> None:
        """Poll the slow tier now and publish it; return when done."""
        ...

    def control_state(self, gateway_id: str) -> ControlState: ...


@dataclass(frozen=True, slots=True)
class ControlTarget:
    gateway_id: str
    read_mode: str  # how the gateway is read: "tedapi", "local", "cloud", "fleetapi"
    transport: WriteTransport | None  # how it is written; None = read-only
    # Why writes are refused although a transport exists (a 409 naming what to set)
    unsafe: str | None = None


@dataclass(frozen=True, slots=True)
class Unresolvable:
    """The command needs a value not known yet (a 503: retry after the next poll)."""

    message: str


@dataclass(frozen=True, slots=True)
class WritePlan:
    target: ControlTarget
    asked: Command  # as the client asked (a reserve hold stays visible in the audit)
    calls: tuple[LibraryCall, ...]
    expected: tuple[tuple[Control, Value], ...]  # per part, in read-back terms
    old: ControlState
    cap_note: str | None = None  # the reserve asked is above the transport's cap


def plan_write(
    target: ControlTarget, asked: Command, state: ControlState
) -> WritePlan | Refusal | Unresolvable:
    """Resolve, check the transport's limits and pick the library calls; sends nothing."""
    if target.unsafe is not None:
        return NoWritePath(target.unsafe)
    command = resolve(asked, state)
    if isinstance(command, Unresolvable):
        return command
    refusal = check_command(target.gateway_id, target.read_mode, target.transport, command)
    if refusal is not None:
        return refusal
    beyond = site_limit_problem(command, state)
    if isinstance(beyond, str):
        return Unresolvable(beyond)
    if beyond is not None:
        return beyond
    cap = reserve_cap(target.transport, command)
    return WritePlan(target, asked, library_calls(command), expected_values(command), state, cap)


def resolve(command: Command, state: ControlState) -> Command | Unresolvable:
    """A reserve hold becomes a reserve at the current state of energy (app scale)."""
    if not isinstance(command, HoldReserve):
        return command
    soe = state.state_of_energy_percent
    if soe is None:
        return Unresolvable("state of energy not known yet; retry after the next poll")
    return SetReserve(min(100, max(0, round(soe))))


class WriteStatus(StrEnum):
    APPLIED = "applied"
    CAPPED = "capped"  # sent; the gateway holds its transport's cap instead (detail says)
    PENDING = "pending"
    FAILED = "failed"


class FailureKind(StrEnum):
    REJECTED = "rejected"  # the library reported failure or raised (400)
    TIMEOUT = "timeout"  # no answer in time: the write may still take effect (504)
    GATEWAY = "gateway"  # the supervisor refused (gateway unreachable, ...): 503


@dataclass(frozen=True, slots=True)
class PartOutcome:
    control: Control
    requested: Value
    old: Value
    read_back: Value
    status: WriteStatus
    detail: str | None = None


@dataclass(frozen=True, slots=True)
class WriteOutcome:
    gateway_id: str
    parts: tuple[PartOutcome, ...]
    failure: FailureKind | None = None
    message: str | None = None  # why it failed, safe to show

    @property
    def status(self) -> WriteStatus:
        """The worst part: failed, else pending, else capped, else applied."""
        statuses = {part.status for part in self.parts}
        for status in (WriteStatus.FAILED, WriteStatus.PENDING, WriteStatus.CAPPED):
            if status in statuses:
                return status
        return WriteStatus.APPLIED


async def execute_write(
    supervisor: ControlSupervisor, plan: WritePlan, *, timeout: float, refresh_timeout: float
) -> WriteOutcome:
    """Send the plan's calls in one operation on the gateway's worker, refresh, read back.
    Takes at most about `timeout` + `refresh_timeout` seconds (evcc gives up at 15 s)."""
    gateway_id = plan.target.gateway_id
    try:
        failures = await supervisor.submit(gateway_id, _operation(plan.calls), timeout)
    except TimeoutError:
        late = f"the gateway did not answer in time (limit {timeout:g} s); it may still apply"
        return _failed_outcome(plan, FailureKind.TIMEOUT, late)
    except ServerError as exc:
        return _failed_outcome(plan, FailureKind.GATEWAY, exc.message)
    state = plan.old
    if any(failure is None for failure in failures):
        state = await _refreshed_state(supervisor, gateway_id, refresh_timeout)
    parts = tuple(
        _part(plan, control, expected, _failure_of(plan.calls, failures, control), state)
        for control, expected in plan.expected
    )
    message = next((p.detail for p in parts if p.status is WriteStatus.FAILED), None)
    failed = message is not None
    return WriteOutcome(gateway_id, parts, FailureKind.REJECTED if failed else None, message)


def _operation(calls: Sequence[LibraryCall]) -> Callable[[PowerwallWriter], list[str | None]]:
    """Runs on the worker: each call in order, stopping at the first failure so a
    combined write never goes on after a refused part."""

    def run(writer: PowerwallWriter) -> list[str | None]:
        failures: list[str | None] = []
        for call in calls:
            failure: str | None
            try:
                failure = call_failure(call.run(writer))
            except Exception as exc:  # the library raised: report it, never crash the worker
                log.warning("control %s raised %s", call.text, type(exc).__name__)
                failure = f"the library raised {type(exc).__name__}"
            failures.append(failure)
            if failure is not None:
                log.warning("control %s failed: %s", call.text, failure)
                break
        return failures

    return run


async def _refreshed_state(
    supervisor: ControlSupervisor, gateway_id: str, timeout: float
) -> ControlState:
    # shield: a slow refresh goes on and publishes later; only our wait for it ends
    refresh = asyncio.ensure_future(supervisor.refresh_slow_tier(gateway_id))
    refresh.add_done_callback(_retrieve_exception)
    try:
        await asyncio.wait_for(asyncio.shield(refresh), timeout)
    except Exception as exc:  # the write went through: report it, with parts left pending
        log.warning("control read-back of %s failed: %s", gateway_id, type(exc).__name__)
    return supervisor.control_state(gateway_id)


def _retrieve_exception(future: asyncio.Future[None]) -> None:
    """A refresh that fails after we stopped waiting must not log 'never retrieved'."""
    if not future.cancelled():
        future.exception()


def _failure_of(
    calls: Sequence[LibraryCall], failures: Sequence[str | None], control: Control
) -> str | None:
    for index, call in enumerate(calls):
        if control in call.controls:
            if index >= len(failures):
                return "not sent: an earlier part failed"
            return failures[index]
    return "no library call for this part"


def _part(
    plan: WritePlan, control: Control, expected: Value, failure: str | None, state: ControlState
) -> PartOutcome:
    old = read_back(control, plan.old)
    if failure is not None:
        return PartOutcome(control, expected, old, old, WriteStatus.FAILED, failure)
    current = read_back(control, state)
    if shows(control, current, expected):
        return PartOutcome(control, expected, old, current, WriteStatus.APPLIED)
    cap = plan.cap_note if control is Control.RESERVE else None
    if cap is not None and shows(control, current, _cap_value(plan)):
        note = f"{cap}; the gateway holds {current} %"
        return PartOutcome(control, expected, old, current, WriteStatus.CAPPED, note)
    detail = "accepted; not shown by the gateway yet" + (f" ({cap})" if cap else "")
    return PartOutcome(control, expected, old, current, WriteStatus.PENDING, detail)


def _cap_value(plan: WritePlan) -> int | None:
    transport = plan.target.transport
    return None if transport is None else LIMITS[transport].max_reserve


def _failed_outcome(plan: WritePlan, kind: FailureKind, message: str) -> WriteOutcome:
    parts = tuple(
        PartOutcome(
            control,
            expected,
            read_back(control, plan.old),
            read_back(control, plan.old),
            WriteStatus.FAILED,
            message,
        )
        for control, expected in plan.expected
    )
    return WriteOutcome(plan.target.gateway_id, parts, kind, message)
