"""The streams of one app: one Stream per gateway plus the aggregate, fed by one hub
subscription and reading the read model (answers.py). `start_streams` is entered in the
app's lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import HTTPConnection

from pypowerwall_server.answers import ReadModel
from pypowerwall_server.errors import UnknownGateway
from pypowerwall_server.streams import payloads
from pypowerwall_server.streams.broadcaster import Stream, StreamConfig
from pypowerwall_server.streams.messages import CloseCode, StreamName
from pypowerwall_server.streams.origin import origin_allowed

log = logging.getLogger(__name__)

# Optional read authentication (a later issue): True lets the client in; False closes 4401.
ReadAuthorizer = Callable[[HTTPConnection], Awaitable[bool]]
HUB_QUEUE_SIZE = 256
SHUTDOWN_WAIT_S = 2.0


@dataclass(frozen=True)
class AggregateSource:
    model: ReadModel
    name: StreamName = "aggregate"
    gateway: str | None = None

    def fingerprint(self, now: float) -> object:
        return payloads.fingerprint(self.model, self.model.hub.states(), now)

    def awaiting(self) -> bool:
        return self.model.hub.awaiting_online()

    def payload(self, now: float) -> tuple[Any, float | None]:
        states = self.model.hub.states()
        return payloads.aggregate_payload(self.model), payloads.newest_data_time(states)


@dataclass(frozen=True)
class GatewaySource:
    model: ReadModel
    gateway: str | None
    name: StreamName = "gateway"

    def fingerprint(self, now: float) -> object:
        return payloads.fingerprint(self.model, (self._state(),), now)

    def awaiting(self) -> bool:
        return False  # its one gateway's Snapshot is what woke the stream

    def payload(self, now: float) -> tuple[Any, float | None]:
        data = payloads.gateway_payload(self.model, self._gateway_id(), now)
        return data, payloads.newest_data_time((self._state(),))

    def _gateway_id(self) -> str:
        assert self.gateway is not None
        return self.gateway

    def _state(self) -> Any:
        return self.model.hub.get(self._gateway_id())


class Streams:
    def __init__(
        self,
        model: ReadModel,
        allowed_origins: tuple[str, ...],
        config: StreamConfig,
        authorize: ReadAuthorizer | None,
    ) -> None:
        hub = model.hub
        self.hub = hub
        self.config = config
        self.allowed_origins = allowed_origins
        self.authorize = authorize
        self.aggregate = Stream(AggregateSource(model), config, hub.clock)
        self.gateways = {
            gid: Stream(GatewaySource(model, gid), config, hub.clock) for gid in hub.gateway_ids
        }
        self.active: set[asyncio.Future[None]] = set()  # `finished` of connected clients

    def gateway(self, gateway_id: str) -> Stream:
        try:
            return self.gateways[gateway_id]
        except KeyError:
            raise UnknownGateway(gateway_id) from None

    def all(self) -> tuple[Stream, ...]:
        return (self.aggregate, *self.gateways.values())

    def origin_ok(self, conn: HTTPConnection) -> bool:
        return origin_allowed(
            conn.headers.get("origin"), conn.headers.get("host"), self.allowed_origins
        )

    async def allowed(self, conn: HTTPConnection) -> bool:
        return self.authorize is None or await self.authorize(conn)

    async def dispatch(self) -> None:
        """Forward each published state to the streams that show it."""
        async for state in self.hub.updates(HUB_QUEUE_SIZE):
            self.aggregate.poke()
            stream = self.gateways.get(state.gateway_id)
            if stream is not None:
                stream.poke()

    async def close_all(self) -> None:
        """Close every client with 1001 and give their writers a moment to send it."""
        for stream in self.all():
            stream.close_all(CloseCode.GOING_AWAY, "server shutting down")
        if self.active:
            await asyncio.wait(tuple(self.active), timeout=SHUTDOWN_WAIT_S)


@contextlib.asynccontextmanager
async def start_streams(
    model: ReadModel,
    allowed_origins: tuple[str, ...] = (),
    config: StreamConfig | None = None,
    authorize: ReadAuthorizer | None = None,
) -> AsyncIterator[Streams]:
    """Run the streams' tasks for the duration of the block (the app's lifespan)."""
    streams = Streams(model, allowed_origins, config or StreamConfig(), authorize)
    tasks = [asyncio.create_task(streams.dispatch(), name="streams:dispatch")]
    tasks += [
        asyncio.create_task(s.run(), name=f"streams:{s.source.gateway or s.source.name}")
        for s in streams.all()
    ]
    for task in tasks:
        task.add_done_callback(_report_crash)
    try:
        yield streams
    finally:
        await streams.close_all()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def _report_crash(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("task %s crashed", task.get_name(), exc_info=task.exception())
