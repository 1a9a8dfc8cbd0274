"""What the poller needs from a gateway connection; the real one is adapter.py, tests use
hand-written fakes at this boundary."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar, runtime_checkable

from pypowerwall_server.gateway_state import TransportStatus
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


@runtime_checkable
class OrderedTransports(Protocol):
    """What a connection over ordered transports adds (transports.py, TransportChain): the
    poller, the supervisor and the writer ask for it with isinstance, so they depend on these
    capabilities, not on the concrete chain."""

    @property
    def interval(self) -> float:
        """The active transport's poll interval (a remote fallback polls more slowly)."""
        ...

    def attributes(self) -> GatewayAttributes:
        """The facts of the transport that answered last."""
        ...

    def status(self) -> TransportStatus: ...

    def keep_fresh(self, stale_after_intervals: float) -> None:
        """Fail over before the newest data is this many intervals old."""
        ...

    def run_on(self, name: str, operation: Callable[[Any], T]) -> T:
        """`operation(connection)` on the named transport, whichever one reads now."""
        ...
