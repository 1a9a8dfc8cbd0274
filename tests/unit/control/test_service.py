"""A write end to end through the service: answer, audit entry, nothing sent on refusal."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

import pytest

from pypowerwall_server.control.audit import AuditTrail
from pypowerwall_server.control.commands import (
    Combined,
    ExportRule,
    HoldReserve,
    OperatingMode,
    SetReserve,
)
from pypowerwall_server.control.limits import WriteTransport
from pypowerwall_server.control.readback import ControlState
from pypowerwall_server.control.service import ControlService
from pypowerwall_server.control.writes import ControlTarget
from pypowerwall_server.errors import UnknownGateway
from tests.unit.control.fakes import FakeSupervisor, FakeWriter

BEFORE = ControlState(reserve_percent=20.0, mode="self_consumption", state_of_energy_percent=64.6)
TARGETS = {
    "home": ControlTarget("home", "tedapi", WriteTransport.CLOUD),
    "shed": ControlTarget("shed", "local", None),
}


def service(after: ControlState | None) -> tuple[ControlService, FakeSupervisor, AuditTrail]:
    supervisor = FakeSupervisor(FakeWriter(), BEFORE, after)
    audit = AuditTrail(10, clock=lambda: 0.0)
    return ControlService(supervisor, TARGETS, audit), supervisor, audit


async def test_a_write_answers_the_read_back_and_is_audited() -> None:
    svc, supervisor, audit = service(ControlState(reserve_percent=40.0))
    answer = await svc.write("home", "10.0.0.5", SetReserve(40))
    assert answer.status == 200
    assert answer.body["status"] == "applied"
    assert supervisor.writer.calls == [("set_reserve", (40,))]
    [entry] = audit.recent()
    assert (entry.client, entry.gateway_id, entry.what, entry.old, entry.new, entry.result) == (
        "10.0.0.5",
        "home",
        "reserve",
        "20",
        "40",
        "applied",
    )


async def test_hold_is_audited_as_a_hold() -> None:
    svc, supervisor, audit = service(ControlState(reserve_percent=65.0))
    answer = await svc.write("home", "10.0.0.5", HoldReserve())
    assert answer.status == 200
    assert supervisor.writer.calls == [("set_reserve", (65,))]
    assert (audit.recent()[0].what, audit.recent()[0].new) == ("reserve_hold", "65")


async def test_combined_is_one_audit_entry() -> None:
    svc, _, audit = service(None)
    command = Combined(30, OperatingMode.BACKUP, ExportRule.NEVER)
    answer = await svc.write("home", "c", command)
    assert answer.status == 200
    [entry] = audit.recent()
    assert (entry.what, entry.old, entry.new, entry.result) == (
        "reserve,mode,grid_export",
        "20,self_consumption,?",
        "30,backup,never",
        "pending",
    )


@pytest.mark.parametrize(
    ("gateway", "command", "status", "result"),
    [
        ("shed", SetReserve(40), 409, "refused: no write transport"),
    ],
)
async def test_refusals_send_nothing_and_are_audited(
    gateway: str, command: SetReserve, status: int, result: str
) -> None:
    svc, supervisor, audit = service(None)
    answer = await svc.write(gateway, "c", command)
    assert answer.status == status
    assert supervisor.submits == [] and supervisor.writer.calls == []
    assert audit.recent()[0].result == result
    assert audit.recent()[0].new == str(command.percent)


async def test_a_failed_write_is_audited_with_its_kind() -> None:
    svc, supervisor, audit = service(None)
    supervisor.submit_error = TimeoutError()
    answer = await svc.write("home", "c", SetReserve(40))
    assert answer.status == 504
    assert audit.recent()[0].result == "failed (timeout)"


def test_refused_before_parsing_is_audited() -> None:
    svc, _, audit = service(None)
    svc.refuse("home", "10.0.0.9", "reserve", "abc", "refused: invalid value")
    entry = audit.recent()[0]
    assert (entry.client, entry.new, entry.result) == ("10.0.0.9", "abc", "refused: invalid value")


async def test_unknown_gateway() -> None:
    svc, _, _ = service(None)
    with pytest.raises(UnknownGateway):
        await svc.write("nope", "c", SetReserve(40))
    with pytest.raises(UnknownGateway):
        svc.state("nope")
    assert svc.state("home") == BEFORE


class ReadBackSupervisor(FakeSupervisor):
    """A gateway whose writes take a moment (each submit yields to the loop twice) and whose
    refresh reads back the reserve last written."""

    async def submit(self, gateway_id: str, operation: Any, timeout: float) -> Any:
        await asyncio.sleep(0)
        result = await super().submit(gateway_id, operation, timeout)
        await asyncio.sleep(0)
        return result

    async def refresh_slow_tier(self, gateway_id: str) -> None:
        await super().refresh_slow_tier(gateway_id)
        (_, (level, *_)) = self.writer.calls[-1]
        self.state = replace(self.state, reserve_percent=float(str(level)))


async def test_concurrent_writes_all_audit_the_same_old_value() -> None:
    supervisor = ReadBackSupervisor(FakeWriter(), BEFORE)
    audit = AuditTrail(10, clock=lambda: 0.0)
    svc = ControlService(supervisor, TARGETS, audit)
    answers = await asyncio.gather(*(svc.write("home", "c", SetReserve(v)) for v in (30, 40, 50)))
    assert [a.status for a in answers] == [200, 200, 200]
    assert [(e.old, e.new) for e in reversed(audit.recent())] == [
        ("20", "30"),
        ("30", "40"),
        ("40", "50"),
    ]
