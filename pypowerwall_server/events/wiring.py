"""The events of one app as its settings ask: detector options, and notifications when
PW_NOTIFY_URLS is set (Apprise is imported only then)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from pypowerwall_server.control.audit import AuditTrail
from pypowerwall_server.events.notify import AppriseSender, Notifier, Send
from pypowerwall_server.events.service import EventOptions, EventService
from pypowerwall_server.events.store import EventStore
from pypowerwall_server.hub import Hub
from pypowerwall_server.settings import Settings
from pypowerwall_server.settings.event_kinds import kinds_of
from pypowerwall_server.settings.notify_urls import split_urls


def notify_urls(settings: Settings) -> list[str]:
    secret = settings.server.notify_urls
    return [] if secret is None else split_urls(secret.get_secret_value())


def build_events(
    settings: Settings,
    hub: Hub,
    audit: AuditTrail,
    store: EventStore | None = None,
    send: Send | None = None,
) -> EventService:
    """`send` replaces Apprise (tests that count attempts); `store` keeps events across
    restarts (the history store's SQLite; in memory without it)."""
    server = settings.server
    urls = notify_urls(settings)
    notifier = None
    if urls:
        notifier = Notifier(urls, kinds_of(server.notify_events), send or AppriseSender(urls))
    options = EventOptions(server.notify_soe_low, server.notify_hold_down)
    events = EventService(hub, options, store, notifier)
    audit.listeners.append(events.control_result)
    return events


@contextlib.asynccontextmanager
async def running_events(events: EventService) -> AsyncIterator[None]:
    """The lifespan's part: detection and delivery run; Apprise's threads end after."""
    from pypowerwall_server.tasks import background

    try:
        async with background("events", events.run):
            yield
    finally:
        events.stopping.set()
        sender = events.notifier.sender if events.notifier is not None else None
        if isinstance(sender, AppriseSender):
            sender.close()
