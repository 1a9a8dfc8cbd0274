"""History in the running server: the store, the ingestion fed from the hub's updates and
the control audit, and what /health and the routes need to know about it."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from pypowerwall_server.control.audit import AuditEntry
from pypowerwall_server.gateway_state import GatewayState
from pypowerwall_server.history.ingest import Ingestor
from pypowerwall_server.history.samples import sample_of
from pypowerwall_server.history.store import HistoryStore, HistoryUnavailable
from pypowerwall_server.hub import Hub
from pypowerwall_server.settings import Settings
from pypowerwall_server.settings.tariff import Tariff

T = TypeVar("T")
OFF_REASON = "history is off (PW_HISTORY=no)"


class HistoryService:
    def __init__(self, settings: Settings, hub: Hub, batch_seconds: float = 1.0) -> None:
        server = settings.server
        self.on = server.history
        self.hub = hub
        self.zones = {g.id: ZoneInfo(g.timezone) for g in settings.gateways}
        self.tariff: Tariff | None = server.history_tariff
        folder = Path(server.data_dir).expanduser()
        self.store = HistoryStore(folder, batch_seconds) if self.on else None
        write = self.store.write if self.store else _dropped
        self.ingestor = Ingestor(write, self.zones, server.history_days)
        self._offline: set[str] = set()

    @property
    def site_zone(self) -> ZoneInfo:
        """The site total's days are those of the default gateway."""
        return self.zones[self.hub.default_id]

    def claim(self) -> None:
        """Take the history file's lock before serving: HistoryLocked when another server
        has it. A folder that cannot be written is not refused here: history reports it."""
        if self.store is not None:
            with contextlib.suppress(OSError):
                self.store.path.parent.mkdir(parents=True, exist_ok=True)
                self.store.lock.acquire()

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Open the file, carry on from it, and record every published state until the block
        ends; then write what is gathered and close."""
        store = self.store
        if store is None:
            yield
            return
        await asyncio.to_thread(self._open, store)
        task = asyncio.create_task(self._record_updates(), name="history")
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            self.ingestor.finish()
            await asyncio.to_thread(store.close)

    def _open(self, store: HistoryStore) -> None:
        store.start()
        if store.problem is None:
            with contextlib.suppress(HistoryUnavailable):
                store.read_now(self.ingestor.restore)

    async def _record_updates(self) -> None:
        async for state in self.hub.updates(maxsize=256):
            self.record(state)

    def record(self, state: GatewayState) -> None:
        """One published state: a reading to ingest, or the start of an offline period."""
        if not state.online:
            if state.gateway_id not in self._offline and state.last_attempt is not None:
                self._offline.add(state.gateway_id)
                self.ingestor.went_offline(state.gateway_id, state.last_attempt)
            return
        self._offline.discard(state.gateway_id)
        sample = sample_of(state)
        if sample is not None:
            self.ingestor.observe(sample)

    def record_control(self, entry: AuditEntry) -> None:
        """A control write from the audit trail."""
        self.ingestor.record_control(
            entry.at, entry.gateway_id, entry.what, entry.old, entry.new, entry.result
        )

    async def read(self, query: Callable[[sqlite3.Connection], T]) -> T:
        if self.store is None:
            raise HistoryUnavailable(OFF_REASON)
        return await self.store.read(query)

    def status(self) -> dict[str, Any]:
        """For /health and GET /api/history: on, ok, and the problem when there is one."""
        if self.store is None:
            return {"on": False, "ok": False, "problem": OFF_REASON}
        problem = self.store.problem
        return {
            "on": True,
            "ok": problem is None,
            "problem": problem,
            "file": str(self.store.path),
            "dropped_writes": self.store.dropped_writes,
        }


def _dropped(_job: Callable[[sqlite3.Connection], None]) -> None:
    """History off: nothing is written."""
