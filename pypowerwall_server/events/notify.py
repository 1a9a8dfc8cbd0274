"""Delivery of events through Apprise: one bounded queue and one worker per URL, so a
receiver that is down delays only its own messages, never polling, requests or the other
URLs. A failed send is retried with backoff a bounded number of times; a URL that keeps
failing is logged once when it starts and once when it works again, and /health shows it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from pypowerwall_server.events.model import Event
from pypowerwall_server.gateway.daemon_threads import DaemonThreadPool
from pypowerwall_server.settings.event_kinds import EventKind, Severity
from pypowerwall_server.settings.notify_urls import SENDER_THREADS, quiet_apprise, shown

log = logging.getLogger(__name__)

QUEUE_SIZE = 100  # events waiting per URL; more are dropped (counted)
ATTEMPTS = 4  # one send and three retries
BACKOFF_S = (2.0, 30.0)  # first retry delay, cap (doubling in between)
SEND_TIMEOUT_S = 15.0
APPRISE_TYPES = {"info": "info", "warning": "warning", "critical": "failure"}
TITLE = "Powerwall"

# (URL, title, body, severity) -> delivered
Send = Callable[[str, str, str, Severity], Awaitable[bool]]


@dataclass(slots=True)
class UrlStatus:
    shown: str
    sent: int = 0
    failed: int = 0  # events given up after every attempt
    retries: int = 0
    dropped: int = 0  # events the full queue could not take
    failing: bool = False
    last_error: str | None = None

    def as_dict(self, queued: int) -> dict[str, Any]:
        return {
            "url": self.shown,
            "sent": self.sent,
            "failed": self.failed,
            "retries": self.retries,
            "dropped": self.dropped,
            "queued": queued,
            "failing": self.failing,
            "last_error": self.last_error,
        }


class AppriseSender:
    """Sends through Apprise on threads of its own (Apprise's calls block); daemon threads,
    so a send to a hung receiver never holds the server's exit."""

    def __init__(self, urls: list[str]) -> None:
        quiet_apprise(urls)
        self._pool = DaemonThreadPool(max(1, min(4, len(urls))), SENDER_THREADS)
        self._services: dict[str, Any] = {}

    async def __call__(self, url: str, title: str, body: str, severity: Severity) -> bool:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, self._send, url, title, body, severity)

    async def prepare(self, urls: list[str]) -> None:
        """Load Apprise and its plugins now (a second or more), not at the first event."""
        loop = asyncio.get_running_loop()
        await asyncio.gather(*(loop.run_in_executor(self._pool, self._service, u) for u in urls))

    def _service(self, url: str) -> Any:
        from apprise import Apprise

        service = self._services.get(url)
        if service is None:
            service = self._services[url] = Apprise()
            service.add(url)
        return service

    def _send(self, url: str, title: str, body: str, severity: Severity) -> bool:
        service = self._service(url)
        result = service.notify(body=body, title=title, notify_type=APPRISE_TYPES[severity])
        return bool(result)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


class Notifier:
    def __init__(
        self,
        urls: list[str],
        kinds: frozenset[EventKind],
        send: Send,
        *,
        attempts: int = ATTEMPTS,
        backoff: tuple[float, float] = BACKOFF_S,
        queue_size: int = QUEUE_SIZE,
        timeout: float = SEND_TIMEOUT_S,
    ) -> None:
        self.urls = urls
        self.kinds = kinds
        self.sender = send
        self.attempts = attempts  # per event and URL, the first send included
        self.backoff = backoff
        self._timeout = timeout
        self.status = [UrlStatus(shown(index, url)) for index, url in enumerate(urls)]
        self._queues: list[asyncio.Queue[Event]] = [asyncio.Queue(queue_size) for _ in urls]

    def offer(self, event: Event) -> None:
        """Queue the event for every URL if its kind is notified; never waits."""
        if event.kind not in self.kinds:
            return
        for queue, status in zip(self._queues, self.status, strict=True):
            try:
                queue.put_nowait(event)
            except asyncio.QueueFull:
                if not status.dropped:
                    log.warning("notifications to %s: queue full, dropping events", status.shown)
                status.dropped += 1

    def as_dict(self) -> dict[str, Any]:
        """/health's and /stats' view: per URL (shown without secrets), counts and state."""
        urls = [s.as_dict(q.qsize()) for s, q in zip(self.status, self._queues, strict=True)]
        return {"kinds": sorted(self.kinds), "urls": urls}

    @property
    def failing(self) -> bool:
        return any(status.failing for status in self.status)

    async def run(self) -> None:
        if isinstance(self.sender, AppriseSender):
            await self.sender.prepare(self.urls)
        async with asyncio.TaskGroup() as group:
            for index in range(len(self.urls)):
                group.create_task(self._worker(index), name=f"notify-{index + 1}")

    async def _worker(self, index: int) -> None:
        queue = self._queues[index]
        while True:
            event = await queue.get()
            await self._deliver(index, event)

    async def _deliver(self, index: int, event: Event) -> None:
        url, status = self.urls[index], self.status[index]
        delay, cap = self.backoff
        for attempt in range(1, self.attempts + 1):
            error = await self._try(url, event)
            if error is None:
                status.sent += 1
                if status.failing:
                    log.info("notifications to %s: delivered again", status.shown)
                status.failing, status.last_error = False, None
                return
            status.last_error = error
            if attempt < self.attempts:
                status.retries += 1
                await asyncio.sleep(delay)
                delay = min(cap, delay * 2)
        status.failed += 1
        if not status.failing:
            log.warning(
                "notifications to %s failing (%s); gave up on event %d after %d attempts",
                status.shown,
                status.last_error,
                event.id,
                self.attempts,
            )
        status.failing = True

    async def _try(self, url: str, event: Event) -> str | None:
        """None when delivered, else why not (never the URL: it holds the secret)."""
        try:
            async with asyncio.timeout(self._timeout):
                delivered = await self.sender(
                    url, title_of(event), event.draft.message, event.draft.severity
                )
        except TimeoutError:
            return f"no answer within {self._timeout:g} s"
        except Exception as exc:  # a plugin's own error: its type only (text may hold the URL)
            return f"error {type(exc).__name__}"
        return None if delivered else "the service refused or could not be reached"


def title_of(event: Event) -> str:
    """ "Powerwall: grid outage": the kind, for readers and filters."""
    return f"{TITLE}: {event.kind.replace('_', ' ')}"


def send_test(urls: list[str], send_one: Callable[[str], bool] | None = None) -> list[str]:
    """--notify-test: one test message to each URL; one report line per URL."""
    quiet_apprise(urls)
    lines = []
    for index, url in enumerate(urls):
        ok = (send_one or _send_test_message)(url)
        lines.append(f"{shown(index, url)}: {'sent' if ok else 'FAILED'}")
    return lines


def _send_test_message(url: str) -> bool:
    from apprise import Apprise

    service = Apprise()
    if not service.add(url):
        return False
    body = "Test message from pypowerwall-server: notifications work."
    return bool(service.notify(body=body, title=TITLE))
