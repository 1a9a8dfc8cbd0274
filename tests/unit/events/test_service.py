"""The event service: control results from the audit trail become events; listeners get
every event in order and one that falls behind is dropped, never waited for."""

from __future__ import annotations

import asyncio

from pypowerwall_server.control.audit import AuditTrail
from pypowerwall_server.events.model import EventDraft
from pypowerwall_server.events.service import EventOptions, EventService
from pypowerwall_server.gateway.poller import GatewayState
from pypowerwall_server.hub import Hub


def service() -> tuple[EventService, AuditTrail]:
    hub = Hub([GatewayState("home", "Home", "local", 5.0)], 3.0, clock=lambda: 100.0)
    events = EventService(hub, EventOptions())
    audit = AuditTrail(10, secrets=("tok3n",), clock=lambda: 100.0)
    audit.listeners.append(events.control_result)
    return events, audit


def test_control_results_become_events_and_refusals_do_not() -> None:
    async def scenario() -> list[dict[str, object]]:
        events, audit = service()
        record = {"client": "1.2.3.4", "gateway_id": "home", "what": "reserve", "old": 20}
        audit.record(**record, new=80, result="applied")
        audit.record(**record, new=90, result="failed (timeout)")
        audit.record(**record, new="tok3n", result="refused: bad token")
        return [e.as_dict() for e in events.ring.select()]

    applied, failed = asyncio.run(scenario())
    assert applied["kind"] == "control_applied" and applied["gateway"] == "home"
    assert applied["message"] == "Control write at Home applied: reserve 20 -> 80"
    assert failed["kind"] == "control_failed" and failed["severity"] == "warning"
    assert failed["message"] == "Control write at Home failed (timeout): reserve 20 -> 90"


def test_a_listener_that_falls_behind_is_dropped() -> None:
    async def scenario() -> tuple[int, bool, int, bool]:
        events, _ = service()
        with events.listen(maxsize=2) as slow, events.listen(maxsize=10) as fast:
            for index in range(3):
                events.emit(EventDraft("battery_full", float(index), "home", "full"))
            return (
                slow.queue.qsize(),
                slow.overflowed.is_set(),
                fast.queue.qsize(),
                (fast.overflowed.is_set()),
            )

    assert asyncio.run(scenario()) == (2, True, 3, False)
