"""GatewaySupervisor against hand-written fakes at our GatewayAdapter boundary: operations run
on the gateway's serial worker (never with its poll), time out, map errors; slow-tier
refresh; a crashed poller is restarted and the gateway keeps being polled."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Sequence
from typing import Any

import pytest
from pydantic import SecretStr

from pypowerwall_server.errors import (
    AuthFailed,
    GatewayError,
    GatewayTimeout,
    GatewayUnreachable,
    UnknownGateway,
)
from pypowerwall_server.gateway.schedule import poll_plan
from pypowerwall_server.gateway.supervisor import GatewaySupervisor
from pypowerwall_server.gateway_state import GatewayState
from pypowerwall_server.hub import Hub
from pypowerwall_server.models import GatewayAttributes
from pypowerwall_server.settings import GatewayConfig

ATTRS = GatewayAttributes("local", False, False, False, False, "off", None, "0.22.2")
SLOW_CALL = poll_plan().slow_calls[0]


class RecordingAdapter:
    """Counts how many calls run at once; a poll can be held until released."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.active = 0
        self.max_active = 0
        self.fetches: list[tuple[str, ...]] = []
        self.hold = threading.Event()  # set: the next polls wait for `release`
        self.release = threading.Event()
        self.polling = threading.Event()  # set while a poll is inside fetch

    def connect(self) -> GatewayAttributes:
        return ATTRS

    def fetch(self, calls: Sequence[str]) -> dict[str, Any]:
        with self.running():
            self.fetches.append(tuple(calls))
            self.polling.set()
            if self.hold.is_set():
                self.release.wait(timeout=5)
            self.polling.clear()
            return dict.fromkeys(calls, 1)

    def write(self, value: int) -> int:
        with self.running():
            return value * 2

    def running(self) -> Any:
        adapter = self

        class Running:
            def __enter__(self) -> None:
                with adapter.lock:
                    adapter.active += 1
                    adapter.max_active = max(adapter.max_active, adapter.active)

            def __exit__(self, *_: object) -> None:
                with adapter.lock:
                    adapter.active -= 1

        return Running()

    def run(self, operation: Any) -> Any:
        return operation(self)  # the real adapter passes its pypowerwall.Powerwall

    def close(self) -> None:
        pass


def gateway(gid: str = "gw", interval: float = 0.05) -> GatewayConfig:
    return GatewayConfig(
        id=gid, host="127.0.0.1:9", gw_pwd=SecretStr("pw"), poll_interval=interval, timeout=1
    )


def supervised(
    interval: float = 0.05, hub: Hub | None = None
) -> tuple[GatewaySupervisor, RecordingAdapter, Hub]:
    config = gateway(interval=interval)
    hub = hub or Hub([GatewayState("gw", "gw", "local", interval)], stale_after_intervals=3)
    adapter = RecordingAdapter()
    return (
        GatewaySupervisor((config,), hub, lambda _: adapter, restart_backoff=(0.01, 0.02)),
        (adapter),
        hub,
    )


async def until(predicate: Any, timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.01)


async def test_submit_waits_for_the_poll_and_never_overlaps_it() -> None:
    supervisor, adapter, hub = supervised()
    async with supervisor.running():
        await until(lambda: hub.get("gw").polls >= 1)
        adapter.hold.set()
        await until(adapter.polling.is_set)  # a poll is holding the gateway's worker
        write = asyncio.ensure_future(supervisor.submit("gw", lambda a: a.write(21), timeout=5))
        await asyncio.sleep(0.1)
        assert not write.done()  # queued behind the poll
        adapter.hold.clear()
        adapter.release.set()
        assert await write == 42
        results = await asyncio.gather(
            *(supervisor.submit("gw", lambda a, v=v: a.write(v), timeout=5) for v in range(20))
        )
        await until(lambda: hub.get("gw").polls >= 4)
    assert results == [2 * v for v in range(20)]
    assert adapter.max_active == 1  # polls and operations never ran at the same time


async def test_submit_times_out_and_the_operation_never_runs_later() -> None:
    supervisor, adapter, hub = supervised()
    ran = threading.Event()
    async with supervisor.running():
        await until(lambda: hub.get("gw").polls >= 1)
        adapter.hold.set()
        await until(adapter.polling.is_set)
        with pytest.raises(GatewayTimeout, match=r"did not answer within 0\.1 s") as late:
            await supervisor.submit("gw", lambda a: ran.set(), timeout=0.1)
        assert isinstance(late.value, TimeoutError)  # as control/writes.py expects
        adapter.hold.clear()
        adapter.release.set()
        polls = hub.get("gw").polls
        await until(lambda: hub.get("gw").polls >= polls + 2)  # the worker is free again
    assert not ran.is_set()


async def test_submit_maps_errors_to_ours() -> None:
    supervisor, _, _ = supervised()

    def broken(_: Any) -> None:
        raise ValueError("library bug with a secret inside")

    def refused(_: Any) -> None:
        raise AuthFailed("bad password")

    async with supervisor.running():
        with pytest.raises(GatewayError, match="failed: ValueError") as failed:
            await supervisor.submit("gw", broken, timeout=2)
        assert "secret" not in failed.value.message
        assert type(failed.value) is GatewayError
        with pytest.raises(AuthFailed, match="bad password"):
            await supervisor.submit("gw", refused, timeout=2)
        with pytest.raises(UnknownGateway):
            await supervisor.submit("nope", lambda a: None, timeout=2)
    with pytest.raises(GatewayUnreachable, match="not being polled"):
        await supervisor.submit("gw", lambda a: None, timeout=2)  # after the lifespan


async def test_refresh_slow_tier_polls_it_now() -> None:
    supervisor, adapter, hub = supervised(interval=30.0)  # the next tick is far away
    async with supervisor.running():
        await until(lambda: hub.get("gw").polls >= 1)
        assert SLOW_CALL in adapter.fetches[0]  # the first poll has every tier
        state = await supervisor.refresh_slow_tier("gw", timeout=5)
        assert state.polls == 2 and state.online
        assert SLOW_CALL in adapter.fetches[1]
        with pytest.raises(UnknownGateway):
            await supervisor.refresh_slow_tier("nope", timeout=1)


class CrashingHub(Hub):
    """Raises inside the poller task (not in the worker) for its first polls."""

    def __init__(self, crashes: int) -> None:
        super().__init__([GatewayState("gw", "gw", "local", 0.05)], stale_after_intervals=3)
        self.crashes = crashes

    def poll_started(self, gateway_id: str) -> None:
        if self.crashes > 0:
            self.crashes -= 1
            raise RuntimeError("bug in a poll callback")
        super().poll_started(gateway_id)


async def test_a_crashed_poller_is_restarted_and_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    hub = CrashingHub(crashes=3)
    supervisor, _, _ = supervised(hub=hub)
    with caplog.at_level(logging.DEBUG, logger="pypowerwall_server.gateway.supervisor"):
        async with supervisor.running():
            await until(lambda: hub.get("gw").polls >= 3)
    assert hub.crashes == 0 and hub.get("gw").online
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert [r.getMessage() for r in errors] == ["gateway gw: poller crashed; restarting"]
    again = [r for r in caplog.records if "crashed again" in r.getMessage()]
    assert len(again) == 2


class OwnWriter(RecordingAdapter):
    """A write-only connection (gateway/writer.py): never polled, closed with the gateway."""

    closed = False

    def close(self) -> None:
        self.closed = True


async def test_writes_go_to_the_write_connection_on_the_worker_and_it_is_closed() -> None:
    config = gateway()
    hub = Hub([GatewayState("gw", "gw", "local", 0.05)], stale_after_intervals=3)
    reader, writer = RecordingAdapter(), OwnWriter()
    supervisor = GatewaySupervisor(
        (config,), hub, lambda _: reader, writer_factory=lambda _config, _reader: writer
    )
    async with supervisor.running():
        await until(lambda: hub.get("gw").polls >= 1)
        reader.hold.set()
        await until(reader.polling.is_set)
        write = asyncio.ensure_future(supervisor.submit("gw", lambda w: w.write(21), timeout=5))
        await asyncio.sleep(0.1)
        assert not write.done()  # behind the poll: the gateway's worker is serial
        reader.hold.clear()
        reader.release.set()
        assert await write == 42
    assert writer.max_active == 1 and writer.fetches == []  # it wrote, it never polled
    assert writer.closed
