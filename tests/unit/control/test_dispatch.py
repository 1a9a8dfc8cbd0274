"""Battery dispatch in the control layer: parsing and bounds, the site's power limits, the
write through the service (library call, read-back of the battery's power, audit) and what
the server remembers of the running dispatch (a clock the test moves)."""

from __future__ import annotations

import pytest

from pypowerwall_server.control.audit import AuditTrail
from pypowerwall_server.control.commands import DispatchBattery, ResumeBattery
from pypowerwall_server.control.dispatch import (
    INACTIVE,
    LIMITS_UNKNOWN,
    DispatchTracker,
    site_limit_problem,
)
from pypowerwall_server.control.limits import OverLimit, WriteTransport
from pypowerwall_server.control.readback import ControlState
from pypowerwall_server.control.service import ControlService
from pypowerwall_server.control.values import ValueInvalid, parse_control
from pypowerwall_server.control.writes import ControlTarget
from tests.unit.control.fakes import FakeSupervisor, FakeWriter

LIMITS = ControlState(battery_power_w=-800.0, max_discharge_w=11500.0, max_charge_w=5000.0)
ACK = {"power_watts": 3000.0, "duration_seconds": 60}


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"power_w": 3000, "duration_s": 60}, DispatchBattery(3000, 60)),
        ({"power_w": -2500, "duration_s": 1}, DispatchBattery(-2500, 1)),
        ({"power_w": "-2500", "duration_s": "86400"}, DispatchBattery(-2500, 86400)),
        ({"power_w": 0.0, "duration_s": 30.0}, DispatchBattery(0, 30)),
    ],
)
def test_dispatch_values(fields: dict[str, object], expected: DispatchBattery) -> None:
    assert parse_control("dispatch", fields) == expected


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"duration_s": 60}, "power_w"),
        ({"power_w": True, "duration_s": 60}, "power_w"),
        ({"power_w": 12.5, "duration_s": 60}, "power_w"),
        ({"power_w": "3 kW", "duration_s": 60}, "power_w"),
        ({"power_w": 10**7, "duration_s": 60}, "power_w"),
        ({"power_w": 3000}, "duration_s"),
        ({"power_w": 3000, "duration_s": 0}, "duration_s"),
        ({"power_w": 3000, "duration_s": 86401}, "duration_s"),
        ({"power_w": 3000, "duration_s": -5}, "duration_s"),
        ({"power_w": 3000, "duration_s": 1.5}, "duration_s"),
    ],
)
def test_bad_dispatch_values_name_the_field(fields: dict[str, object], named: str) -> None:
    parsed = parse_control("dispatch", fields)
    assert isinstance(parsed, ValueInvalid)
    assert parsed.error == "Control Command Value Invalid" and named in parsed.detail


def test_resume_takes_nothing() -> None:
    assert parse_control("resume", {}) == ResumeBattery()


@pytest.mark.parametrize(
    ("power", "problem"),
    [(11500, None), (-5000, None), (11501, "discharge at most 11500 W"), (-5001, "charge")],
)
def test_site_limits(power: int, problem: str | None) -> None:
    found = site_limit_problem(DispatchBattery(power, 60), LIMITS)
    if problem is None:
        assert found is None
    else:
        assert isinstance(found, OverLimit) and problem in found.message
    assert site_limit_problem(DispatchBattery(power, 60), ControlState()) == LIMITS_UNKNOWN


def test_the_tracker_ends_a_dispatch_by_itself_and_on_resume() -> None:
    clock = Clock()
    tracker = DispatchTracker(clock)
    tracker.note("home", DispatchBattery(3000, 60), acknowledged=False)
    assert tracker.state("home") == INACTIVE
    tracker.note("home", DispatchBattery(3000, 60), acknowledged=True)
    state = tracker.state("home")
    assert (state["active"], state["power_w"], state["remaining_s"]) == (True, 3000, 60)
    assert state["ends_at"] == "2027-01-15T08:01:00Z"
    clock.now += 59
    assert tracker.state("home")["remaining_s"] == 1
    clock.now += 1
    assert tracker.state("home") == INACTIVE
    tracker.note("home", DispatchBattery(-1000, 600), acknowledged=True)
    tracker.note("home", ResumeBattery(), acknowledged=True)
    assert tracker.current("home") is None


def service(
    transport: WriteTransport | None, after: ControlState, results: dict[str, object]
) -> tuple[ControlService, FakeSupervisor, AuditTrail]:
    supervisor = FakeSupervisor(FakeWriter(results), LIMITS, after)
    audit = AuditTrail(10, clock=lambda: 0.0)
    targets = {"home": ControlTarget("home", "tedapi", transport)}
    tracker = DispatchTracker(Clock())
    return ControlService(supervisor, targets, audit, dispatches=tracker), supervisor, audit


async def test_a_dispatch_reads_back_the_battery_and_is_audited() -> None:
    after = ControlState(battery_power_w=2960.0)
    svc, supervisor, audit = service(WriteTransport.V1R, after, {"dispatch_battery_power": ACK})
    answer = await svc.write("home", "10.0.0.5", DispatchBattery(3000, 60))
    assert answer.status == 200, answer.body
    assert answer.body["parts"]["dispatch"] == {  # type: ignore[index]
        "requested": 3000,
        "old": -800.0,
        "read_back": 2960.0,
        "status": "applied",
        "detail": None,
    }
    assert supervisor.writer.calls == [("dispatch_battery_power", (3000, 60))]
    [entry] = audit.recent()
    assert (entry.what, entry.old, entry.new, entry.result) == (
        "dispatch",
        "-800",
        "3000,60",
        "applied",
    )
    assert svc.dispatches.state("home")["active"] is True


async def test_an_unacknowledged_dispatch_is_a_failure_and_not_remembered() -> None:
    svc, _, audit = service(WriteTransport.V1R, LIMITS, {"dispatch_battery_power": None})
    answer = await svc.write("home", "c", DispatchBattery(3000, 60))
    assert answer.status == 400 and answer.body["error"] == "Failed to set dispatch"
    assert audit.recent()[0].result == "failed (rejected)"
    assert svc.dispatches.state("home") == INACTIVE


@pytest.mark.parametrize("transport", [None, WriteTransport.CLOUD, WriteTransport.FLEETAPI])
async def test_dispatch_off_v1r_is_a_409_naming_v1r_and_sends_nothing(
    transport: WriteTransport | None,
) -> None:
    svc, supervisor, audit = service(transport, LIMITS, {})
    answer = await svc.write("home", "c", DispatchBattery(3000, 60))
    assert answer.status == 409 and "v1r" in str(answer.body["error"])
    assert supervisor.writer.calls == []
    assert audit.recent()[0].result == "refused: not on this transport"


async def test_over_the_site_limit_is_a_400_and_sends_nothing() -> None:
    svc, supervisor, audit = service(WriteTransport.V1R, LIMITS, {})
    answer = await svc.write("home", "c", DispatchBattery(20000, 60))
    assert answer.status == 400 and "11500 W" in str(answer.body["error"])
    assert supervisor.writer.calls == []
    assert audit.recent()[0].result == "refused: over the site's limit"


async def test_resume_is_applied_once_acknowledged() -> None:
    after = ControlState(battery_power_w=-700.0)
    svc, supervisor, _ = service(
        WriteTransport.V1R, after, {"resume_battery_operation": {"resume_battery_operation": True}}
    )
    svc.dispatches.note("home", DispatchBattery(3000, 60), acknowledged=True)
    answer = await svc.write("home", "c", ResumeBattery())
    assert answer.status == 200 and answer.body["status"] == "applied"
    assert supervisor.writer.calls == [("resume_battery_operation", ())]
    assert svc.dispatches.state("home") == INACTIVE
