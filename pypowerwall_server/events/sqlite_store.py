"""The SQLite event store, on the history store's writer (the SqlRunner contract): events
and each gateway's detector state survive a restart, so known conditions are not announced
again. Writes are queued and never block; reads run off the event loop."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar

import orjson

from pypowerwall_server.events.model import Event, event_from_dict
from pypowerwall_server.events.store import Loaded

T = TypeVar("T")

SCHEMA_NAME = "events"
SCHEMA = (
    "CREATE TABLE IF NOT EXISTS events ("
    " id INTEGER PRIMARY KEY, ts REAL NOT NULL, gateway TEXT, kind TEXT NOT NULL,"
    " body TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS events_ts ON events (ts)",
    "CREATE TABLE IF NOT EXISTS event_state (gateway TEXT PRIMARY KEY, body TEXT NOT NULL)",
)
KEEP_EVENTS = 10_000  # older events are deleted as new ones come


class SqlRunner(Protocol):
    """The history store's SQL access (its own definition lives in history/)."""

    def add_schema(self, name: str, statements: Sequence[str]) -> None: ...

    def write(self, job: Callable[[sqlite3.Connection], None]) -> None: ...

    async def read(self, query: Callable[[sqlite3.Connection], T]) -> T: ...


class SqliteEventStore:
    def __init__(self, runner: SqlRunner) -> None:
        self._runner = runner
        runner.add_schema(SCHEMA_NAME, SCHEMA)

    async def load(self, limit: int) -> Loaded:
        return await self._runner.read(lambda db: _load(db, limit))

    def append(self, event: Event) -> None:
        row = (event.id, event.at, event.gateway, event.kind, _json(event.as_dict()))

        def job(db: sqlite3.Connection) -> None:
            db.execute("INSERT OR REPLACE INTO events VALUES (?, ?, ?, ?, ?)", row)
            db.execute("DELETE FROM events WHERE id <= ?", (event.id - KEEP_EVENTS,))

        self._runner.write(job)

    def save_state(self, gateway_id: str, state: dict[str, Any]) -> None:
        row = (gateway_id, _json(state))
        self._runner.write(lambda db: _upsert_state(db, row))


def _upsert_state(db: sqlite3.Connection, row: tuple[str, str]) -> None:
    db.execute("INSERT OR REPLACE INTO event_state VALUES (?, ?)", row)


def _load(db: sqlite3.Connection, limit: int) -> Loaded:
    rows = db.execute("SELECT body FROM events ORDER BY id DESC LIMIT ?", (limit,)).fetchall()
    events = tuple(event_from_dict(orjson.loads(body)) for (body,) in reversed(rows))
    states = {
        gateway: orjson.loads(body)
        for gateway, body in db.execute("SELECT gateway, body FROM event_state")
    }
    return Loaded(events, states)


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()
