"""What the poller needs from a gateway connection; the real one is adapter.py, tests use
hand-written fakes at this boundary."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from pypowerwall_server.models import GatewayAttributes


class GatewayAdapter(Protocol):
    def connect(self) -> GatewayAttributes:
        """Open (or re-open) the connection. Blocks; raises GatewayError."""
        ...

    def fetch(self, calls: Sequence[str]) -> dict[str, Any]:
        """Make each named call once. Blocks; raises GatewayError when nothing came back."""
        ...

    def close(self) -> None: ...
