"""What the MCP energy and outage tools need from the history store: the same JSON shapes as
GET /api/history/energy and /api/history/outages. StoreHistoryReader gives them from the
history store (wired where the app is built); without one, those two tools are not offered."""

from __future__ import annotations

from typing import Any, Protocol

from pypowerwall_server.history.api_params import BadParameter
from pypowerwall_server.history.reports import energy_report, outage_report
from pypowerwall_server.history.service import HistoryService


class HistoryReader(Protocol):
    async def energy(self, period: str, date: str, gateway: str | None) -> dict[str, Any]:
        """Energy per bucket of a day/week/month/year, in Wh (as /api/history/energy).
        Raises ValueError for a bad period or date."""
        ...

    async def outages(self, start: str, end: str, gateway: str | None) -> dict[str, Any]:
        """Grid outages between two ISO 8601 instants (as /api/history/outages)."""
        ...


class StoreHistoryReader:
    """The history store as the MCP tools read it: the routes' answers, JSON only."""

    def __init__(self, history: HistoryService) -> None:
        self._history = history

    async def energy(self, period: str, date: str, gateway: str | None) -> dict[str, Any]:
        try:
            return await energy_report(self._history, period, date or None, gateway, "json")
        except BadParameter as exc:
            raise ValueError(exc.message) from None

    async def outages(self, start: str, end: str, gateway: str | None) -> dict[str, Any]:
        try:
            return await outage_report(self._history, start, end, gateway)
        except BadParameter as exc:
            raise ValueError(exc.message) from None
