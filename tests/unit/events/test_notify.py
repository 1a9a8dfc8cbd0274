"""Delivery: per URL, bounded retries, failures logged once, never a URL in what is shown."""

from __future__ import annotations

import asyncio
import logging

import pytest

from pypowerwall_server.events.model import Event, EventDraft
from pypowerwall_server.events.notify import Notifier, send_test
from pypowerwall_server.settings.notify_urls import quiet_apprise, secret_parts, shown, split_urls

SECRET_URL = "ntfy://tok_secret123@ntfy.example/topic-secret"
GOOD_URL = "json://127.0.0.1:9/path"


def event(event_id: int, kind: str = "grid_outage") -> Event:
    return Event(event_id, EventDraft(kind, 1.0, "home", f"event {event_id}"))  # type: ignore[arg-type]


class Receiver:
    def __init__(self, failing: set[str]) -> None:
        self.failing = failing
        self.calls: list[tuple[str, str]] = []
        self.done = asyncio.Event()

    async def __call__(self, url: str, title: str, body: str, severity: str) -> bool:
        self.calls.append((url, body))
        self.done.set()
        return url not in self.failing


async def drain(notifier: Notifier, until: object) -> None:
    task = asyncio.create_task(notifier.run())
    try:
        for _ in range(200):
            if until():  # type: ignore[operator]
                return
            await asyncio.sleep(0)
        raise AssertionError("not delivered")
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


def test_a_failing_url_is_retried_a_bounded_number_of_times_and_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def scenario() -> Notifier:
        receiver = Receiver({SECRET_URL})
        kinds = frozenset({"grid_outage"})
        notifier = Notifier([SECRET_URL, GOOD_URL], kinds, receiver, attempts=3, backoff=(0, 0))  # type: ignore[arg-type]
        notifier.offer(event(1))
        notifier.offer(event(2))
        notifier.offer(event(3, "battery_full"))  # not a notified kind
        await drain(
            notifier, lambda: notifier.status[0].failed == 2 and notifier.status[1].sent == 2
        )
        assert [u for u, _ in receiver.calls].count(SECRET_URL) == 6  # 2 events x 3 attempts
        return notifier

    with caplog.at_level(logging.INFO):
        notifier = asyncio.run(scenario())
    failing = notifier.as_dict()["urls"][0]
    assert failing["failing"] and failing["retries"] == 4 and failing["url"] == "#1 (ntfy)"
    assert notifier.as_dict()["urls"][1] == {
        "url": "#2 (json)",
        "sent": 2,
        "failed": 0,
        "retries": 0,
        "dropped": 0,
        "queued": 0,
        "failing": False,
        "last_error": None,
    }
    warnings = [r for r in caplog.records if "failing" in r.getMessage()]
    assert len(warnings) == 1
    assert "secret" not in caplog.text and "secret" not in str(notifier.as_dict())


def test_a_full_queue_drops_and_counts_never_waits() -> None:
    async def scenario() -> Notifier:
        notifier = Notifier([GOOD_URL], frozenset({"grid_outage"}), Receiver(set()), queue_size=2)  # type: ignore[arg-type]
        for i in range(5):
            notifier.offer(event(i))
        return notifier

    assert asyncio.run(scenario()).status[0].dropped == 3


def test_urls_split_on_spaces_and_commas_but_not_inside_a_query() -> None:
    text = "ntfy://a/b, json://h/p?to=x,y\nmailtos://u:p@example.com"
    assert split_urls(text) == ["ntfy://a/b", "json://h/p?to=x,y", "mailtos://u:p@example.com"]
    assert shown(2, "mailtos://u:p@example.com") == "#3 (mailtos)"


def test_notify_test_reports_each_url_without_its_secret() -> None:
    lines = send_test([SECRET_URL, GOOD_URL], lambda url: url == GOOD_URL)
    assert lines == ["#1 (ntfy): FAILED", "#2 (json): sent"]


def test_http_debug_lines_holding_a_url_part_are_dropped() -> None:
    """Regression: urllib3's debug line of a send showed a webhook's secret path."""
    quiet_apprise(["json://127.0.0.1:8080/hook/tok-s3cret-path", "ntfy://topic-s3cret"])
    assert {"tok-s3cret-path", "topic-s3cret"} <= secret_parts(["ntfy://topic-s3cret"]) | (
        secret_parts(["json://127.0.0.1:8080/hook/tok-s3cret-path"])
    )
    assert "127.0.0.1" not in secret_parts(["json://127.0.0.1:8080/hook/tok-s3cret-path"])
    pool = logging.getLogger("urllib3.connectionpool")

    def kept(message: str) -> bool:
        record = pool.makeRecord(pool.name, logging.DEBUG, __file__, 1, message, (), None)
        return pool.filter(record)

    assert not kept('http://127.0.0.1:8080 "POST /hook/tok-s3cret-path HTTP/1.1" 200 0')
    assert not kept('https://ntfy.sh:443 "POST /topic-s3cret HTTP/1.1" 200 0')
    assert kept('https://127.0.0.1:8443 "GET /api/meters/aggregates HTTP/1.1" 200 2477')
