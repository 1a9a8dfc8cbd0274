"""What the MCP energy and outage tools need from the history store: the same JSON shapes as
GET /api/history/energy and /api/history/outages. The history store implements it (wired
where the app is built); without one, those two tools are not offered."""

from __future__ import annotations

from typing import Any, Protocol


class HistoryReader(Protocol):
    async def energy(self, period: str, date: str, gateway: str | None) -> dict[str, Any]:
        """Energy per bucket of a day/week/month/year, in Wh (as /api/history/energy).
        Raises ValueError for a bad period or date."""
        ...

    async def outages(self, start: str, end: str, gateway: str | None) -> dict[str, Any]:
        """Grid outages between two ISO 8601 instants (as /api/history/outages)."""
        ...
