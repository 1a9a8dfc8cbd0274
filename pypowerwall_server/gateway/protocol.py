"""What the poller needs from a gateway connection; the real one is adapter.py, tests use
hand-written fakes at this boundary."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar

from pypowerwall_server.models import GatewayAttributes

T = TypeVar("T")


class GatewayAdapter(Protocol):
    def connect(self) -> GatewayAttributes:
        """Open (or re-open) the connection. Blocks; raises GatewayError."""
        ...

    def fetch(self, calls: Sequence[str]) -> dict[str, Any]:
        """Make each named call once. Blocks; raises GatewayError when nothing came back."""
        ...

    def run(self, operation: Callable[[Any], T]) -> T:
        """`operation(connection)` with the library's connection object (a control write,
        an on-demand read), run through the supervisor's `submit`. Blocks; a library
        exception becomes a GatewayError."""
        ...

    def close(self) -> None: ...
