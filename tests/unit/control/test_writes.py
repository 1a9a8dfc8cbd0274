"""Planning a write (hold resolution, limits, nothing sent on refusal) and its outcome read
back after the slow-tier refresh: applied, pending, failed, timed out."""

from __future__ import annotations

import asyncio

import pytest

from pypowerwall_server.control.commands import (
    CancelMaxBackup,
    Combined,
    Command,
    Control,
    ExportRule,
    GoOffGrid,
    HoldReserve,
    OperatingMode,
    ReconnectGrid,
    SetGridCharging,
    SetGridExport,
    SetMode,
    SetReserve,
)
from pypowerwall_server.control.limits import NoWritePath, WriteTransport
from pypowerwall_server.control.readback import ControlState
from pypowerwall_server.control.writes import (
    ControlTarget,
    FailureKind,
    Unresolvable,
    WriteOutcome,
    WritePlan,
    WriteStatus,
    execute_write,
    plan_write,
)
from pypowerwall_server.errors import GatewayUnreachable
from tests.unit.control.fakes import FakeSupervisor, FakeWriter

V1R = ControlTarget("home", "tedapi", WriteTransport.V1R)
CLOUD = ControlTarget("home", "tedapi", WriteTransport.CLOUD)
BEFORE = ControlState(
    reserve_percent=20.0,
    mode="self_consumption",
    grid_charging=False,
    grid_export="battery_ok",
    state_of_energy_percent=57.4,
    grid_connected=True,
)
BACKUP, NEVER = OperatingMode.BACKUP, ExportRule.NEVER


def plan(command: Command, target: ControlTarget = V1R, state: ControlState = BEFORE) -> WritePlan:
    planned = plan_write(target, command, state)
    assert isinstance(planned, WritePlan)
    return planned


async def run(
    command: Command,
    after: ControlState | None,
    writer: FakeWriter | None = None,
    **errors: Exception,
) -> tuple[WriteOutcome, FakeSupervisor]:
    supervisor = FakeSupervisor(writer or FakeWriter(), BEFORE, after, **errors)  # type: ignore[arg-type]
    outcome = await execute_write(supervisor, plan(command), timeout=15.0, refresh_timeout=1.0)
    return outcome, supervisor


def test_hold_resolves_to_the_current_state_of_energy() -> None:
    planned = plan(HoldReserve())
    assert planned.asked == HoldReserve()
    assert [c.text for c in planned.calls] == ["set_reserve(57)"]
    assert planned.expected == ((Control.RESERVE, 57),)


def test_hold_without_a_known_state_of_energy_is_unresolvable() -> None:
    planned = plan_write(V1R, HoldReserve(), ControlState())
    assert isinstance(planned, Unresolvable)
    assert "state of energy" in planned.message


def test_hold_above_the_cloud_cap_is_sent_with_a_note_not_clamped() -> None:
    planned = plan_write(CLOUD, HoldReserve(), ControlState(state_of_energy_percent=91.0))
    assert isinstance(planned, WritePlan)
    assert planned.expected == ((Control.RESERVE, 91),)
    assert planned.cap_note is not None and "91 % was sent" in planned.cap_note


@pytest.mark.parametrize(
    ("target", "command", "refusal"),
    [
        (ControlTarget("g", "tedapi", None), SetReserve(20), NoWritePath),
        (ControlTarget("g", "local", None), HoldReserve(), NoWritePath),
    ],
)
def test_refusals_are_planned_before_anything_is_sent(
    target: ControlTarget, command: Command, refusal: type
) -> None:
    assert isinstance(plan_write(target, command, BEFORE), refusal)


async def test_applied_when_the_read_back_shows_the_value() -> None:
    outcome, supervisor = await run(SetReserve(80), ControlState(reserve_percent=80.2))
    assert outcome.status is WriteStatus.APPLIED
    assert outcome.failure is None
    [part] = outcome.parts
    assert (part.control, part.requested, part.old, part.read_back) == (
        Control.RESERVE,
        80,
        20.0,
        80.2,
    )
    assert supervisor.submits == [("home", 15.0)]
    assert supervisor.refreshes == ["home"]


@pytest.mark.parametrize(
    ("after", "status"),
    [
        (ControlState(reserve_percent=80.5), WriteStatus.APPLIED),
        (ControlState(reserve_percent=79.6), WriteStatus.APPLIED),
        (ControlState(reserve_percent=80.6), WriteStatus.PENDING),
        (ControlState(reserve_percent=20.0), WriteStatus.PENDING),  # accepted, not applied yet
        (ControlState(reserve_percent=None), WriteStatus.PENDING),  # not known: not applied
        (None, WriteStatus.PENDING),  # refresh left the old state
    ],
)
async def test_reserve_read_back(after: ControlState | None, status: WriteStatus) -> None:
    outcome, _ = await run(SetReserve(80), after)
    assert outcome.status is status
    if status is WriteStatus.PENDING:
        assert outcome.parts[0].detail == "accepted; not shown by the gateway yet"


@pytest.mark.parametrize(
    ("command", "after", "unchanged"),
    [
        (SetMode(BACKUP), ControlState(mode="backup"), WriteStatus.PENDING),
        (SetGridCharging(True), ControlState(grid_charging=True), WriteStatus.PENDING),
        (SetGridExport(NEVER), ControlState(grid_export="never"), WriteStatus.PENDING),
        (GoOffGrid(), ControlState(grid_connected=False), WriteStatus.PENDING),
        # already connected before: the unchanged read-back shows what was asked
        (ReconnectGrid(), ControlState(grid_connected=True), WriteStatus.APPLIED),
        (HoldReserve(), ControlState(reserve_percent=57.0), WriteStatus.PENDING),
    ],
)
async def test_each_control_reads_back_its_own_setting(
    command: Command, after: ControlState, unchanged: WriteStatus
) -> None:
    outcome, _ = await run(command, after)
    assert outcome.status is WriteStatus.APPLIED
    stale, _ = await run(command, None)
    assert stale.status is unchanged
    wrong, _ = await run(command, ControlState())
    assert wrong.status is WriteStatus.PENDING


async def test_max_backup_is_never_claimed_applied() -> None:
    outcome, _ = await run(CancelMaxBackup(), BEFORE, FakeWriter({"cancel_max_backup": True}))
    assert outcome.status is WriteStatus.PENDING


async def test_library_failure_is_failed_and_not_refreshed() -> None:
    outcome, supervisor = await run(
        SetReserve(80), ControlState(), FakeWriter({"set_reserve": None})
    )
    assert outcome.status is WriteStatus.FAILED
    assert outcome.failure is FailureKind.REJECTED
    assert outcome.message is not None and "no result" in outcome.message
    assert outcome.parts[0].read_back == 20.0  # unchanged, from before
    assert supervisor.refreshes == []


async def test_library_exception_is_failed_without_crashing_the_worker() -> None:
    writer = FakeWriter({"set_mode": KeyError("boom")})
    outcome, _ = await run(SetMode(BACKUP), None, writer)
    assert outcome.status is WriteStatus.FAILED
    assert outcome.message == "the library raised KeyError"


async def test_combined_reports_each_part() -> None:
    after = ControlState(reserve_percent=50.0, mode="backup", grid_export="battery_ok")
    outcome, supervisor = await run(Combined(50, BACKUP, NEVER), after)
    assert [(p.control, p.status) for p in outcome.parts] == [
        (Control.RESERVE, WriteStatus.APPLIED),
        (Control.MODE, WriteStatus.APPLIED),
        (Control.GRID_EXPORT, WriteStatus.PENDING),
    ]
    assert outcome.status is WriteStatus.PENDING
    assert len(supervisor.submits) == 1  # one operation on the worker for all parts


async def test_combined_stops_at_the_first_refused_part() -> None:
    writer = FakeWriter({"set_operation": {"error": "Failed to write config"}})
    outcome, _ = await run(Combined(50, BACKUP, NEVER), None, writer)
    assert [call[0] for call in writer.calls] == ["set_operation"]  # export never sent
    assert [(p.control, p.status) for p in outcome.parts] == [
        (Control.RESERVE, WriteStatus.FAILED),
        (Control.MODE, WriteStatus.FAILED),
        (Control.GRID_EXPORT, WriteStatus.FAILED),
    ]
    assert outcome.parts[2].detail == "not sent: an earlier part failed"
    assert outcome.failure is FailureKind.REJECTED


async def test_combined_later_part_refused_keeps_the_earlier_part_applied() -> None:
    writer = FakeWriter({"set_grid_export": False})
    after = ControlState(reserve_percent=50.0, mode="backup")
    outcome, supervisor = await run(Combined(50, BACKUP, NEVER), after, writer)
    assert [p.status for p in outcome.parts] == [
        WriteStatus.APPLIED,
        WriteStatus.APPLIED,
        WriteStatus.FAILED,
    ]
    assert outcome.status is WriteStatus.FAILED
    assert supervisor.refreshes == ["home"]  # something changed: read it back


async def test_timeout_says_the_write_may_still_apply() -> None:
    outcome, supervisor = await run(SetReserve(80), None, submit_error=TimeoutError())
    assert outcome.failure is FailureKind.TIMEOUT
    assert outcome.status is WriteStatus.FAILED
    assert outcome.message == "the gateway did not answer in time (limit 15 s); it may still apply"
    assert supervisor.refreshes == []


async def test_gateway_error_is_reported_with_its_safe_message() -> None:
    error = GatewayUnreachable("gateway 'home' unreachable")
    outcome, _ = await run(SetReserve(80), None, submit_error=error)
    assert outcome.failure is FailureKind.GATEWAY
    assert outcome.message == "gateway 'home' unreachable"


@pytest.mark.parametrize("error", [TimeoutError(), GatewayUnreachable("x"), RuntimeError("bug")])
async def test_failed_refresh_leaves_the_parts_pending(error: Exception) -> None:
    after = ControlState(reserve_percent=80.0)
    outcome, _ = await run(SetReserve(80), after, refresh_error=error)
    assert outcome.status is WriteStatus.PENDING
    assert outcome.failure is None


async def test_a_slow_refresh_is_not_waited_for_beyond_its_time() -> None:
    class SlowRefresh(FakeSupervisor):
        async def refresh_slow_tier(self, gateway_id: str) -> None:
            self.refreshes.append(gateway_id)
            await asyncio.sleep(3600)

    supervisor = SlowRefresh(FakeWriter(), BEFORE, None)
    planned = plan(SetReserve(80))
    outcome = await execute_write(supervisor, planned, timeout=15.0, refresh_timeout=0.01)
    assert outcome.status is WriteStatus.PENDING
    assert supervisor.refreshes == ["home"]
