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

    def invoke(self, call: str) -> Any:
        """One library call by name (a control write, an on-demand read), run through the
        supervisor's `submit`. Blocks; raises GatewayError."""
        ...

    def close(self) -> None: ...
