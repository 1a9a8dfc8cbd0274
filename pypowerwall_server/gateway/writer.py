"""Which connection carries a gateway's control writes.

pypowerwall writes only through v1r, the Tesla cloud and FleetAPI. A gateway's write
transport (GatewayConfig.write_transport) is either one of the transports that read it, or
a connection of its own (`control_transport` naming a transport the gateway is not read
through, e.g. a TEDAPI gateway written through FleetAPI):

- one that reads it: a chain writes on that transport (OrderedTransports.run_on), whichever one
  reads at the moment: a write never lands on a read-only TEDAPI link and 409s;
- its own: an adapter built from the gateway's settings for that transport alone (its
  credentials and siteid, gateway/transports.py's transport_config); it is never polled,
  it only runs writes.

Either way the supervisor runs the write on the gateway's serial worker, never beside a
poll, and refreshes the slow tier after it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from pypowerwall_server.gateway.protocol import GatewayAdapter, OrderedTransports
from pypowerwall_server.gateway.transports import transport_config
from pypowerwall_server.settings import GatewayConfig

T = TypeVar("T")


class GatewayWriter(Protocol):
    def run(self, operation: Callable[[Any], T]) -> T:
        """`operation(connection)` with the write transport's library connection."""
        ...

    def close(self) -> None: ...


class ChainLinkWriter:
    """Writes on one named transport of the gateway's chain; the chain owns (and closes) it."""

    def __init__(self, chain: OrderedTransports, name: str) -> None:
        self._chain = chain
        self.name = name

    def run(self, operation: Callable[[Any], T]) -> T:
        return self._chain.run_on(self.name, operation)

    def close(self) -> None:
        """Nothing of its own: the chain closes its links."""


def writer_config(config: GatewayConfig, name: str) -> GatewayConfig:
    """The settings of a write-only connection: the gateway's credentials for that
    transport alone, as a chain would build its link."""
    alone = config.model_copy(update={"transports": (name,), "control_transport": None})
    return transport_config(alone, name)


def build_writer(
    config: GatewayConfig,
    reader: GatewayAdapter,
    make_adapter: Callable[[GatewayConfig], GatewayWriter],
) -> GatewayWriter:
    """The connection control writes through; `reader` itself when that is the one that
    reads (single transport), or when the gateway cannot write at all (control refuses
    those writes with a 409 before they get here)."""
    name = config.write_transport
    if name is None:
        return reader
    if name in config.read_transports:
        return ChainLinkWriter(reader, name) if isinstance(reader, OrderedTransports) else reader
    return make_adapter(writer_config(config, name))
