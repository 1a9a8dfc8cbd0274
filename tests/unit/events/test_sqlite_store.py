"""The SQLite event store on a small SqlRunner made of stdlib sqlite3 (the history store
implements the same three methods)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from pypowerwall_server.events.model import Event, EventDraft
from pypowerwall_server.events.sqlite_store import KEEP_EVENTS, SqliteEventStore
from tests.unit.events.sqlite_runner import FileRunner


def event(event_id: int, kind: str = "grid_outage") -> Event:
    draft = EventDraft(kind, 1000.0 + event_id, "home", f"event {event_id}", {"soe_percent": 62.0})  # type: ignore[arg-type]
    return Event(event_id, draft)


def store_at(path: Path) -> SqliteEventStore:
    runner = FileRunner(path)
    store = SqliteEventStore(runner)
    runner.open()
    return store


def test_events_and_state_survive_a_reopen(tmp_path: Path) -> None:
    first = store_at(tmp_path / "h.db")
    for i in (1, 2, 3):
        first.append(event(i))
    first.save_state("home", {"conditions": {"grid": {"since": 1.0}}, "firmware": "24.4.0"})
    first.save_state("home", {"conditions": {}, "firmware": "25.2.1"})  # replaces
    loaded = asyncio.run(store_at(tmp_path / "h.db").load(2))
    assert [e.id for e in loaded.events] == [2, 3]
    assert loaded.events[1].as_dict() == event(3).as_dict()
    assert loaded.states == {"home": {"conditions": {}, "firmware": "25.2.1"}}


def test_old_events_are_deleted(tmp_path: Path) -> None:
    store = store_at(tmp_path / "h.db")
    store.append(event(1))
    store.append(event(KEEP_EVENTS + 2))
    loaded = asyncio.run(store.load(10))
    assert [e.id for e in loaded.events] == [KEEP_EVENTS + 2]
