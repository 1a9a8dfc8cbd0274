"""Notification URLs (Apprise's): split, checked and shown without their secrets.

An Apprise URL carries its service's token (ntfy topic, Pushover keys, a mail password,
a webhook path), so a URL is only ever shown as its position and scheme: "#2 (ntfy)".
Apprise itself logs URLs: its logger is silenced before it is used (quiet_apprise).
"""

from __future__ import annotations

import logging
import re

APPRISE_LOGGER = "apprise"
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
_SEPARATOR = re.compile(r"\s+|,(?=\s*[A-Za-z][A-Za-z0-9+.-]*://)")


def split_urls(text: str) -> list[str]:
    """The URLs in PW_NOTIFY_URLS: separated by spaces, new lines or commas (a comma inside
    a URL's query, as in ?to=a,b, stays: only a comma before another scheme separates)."""
    parts = _SEPARATOR.split(text)
    return [part.strip(",") for part in parts if part.strip(",")]


def scheme_of(url: str) -> str | None:
    match = _SCHEME.match(url.strip())
    return match.group(1).lower() if match else None


def shown(index: int, url: str) -> str:
    """How a URL appears in logs, /health, /stats, the console and --check-config."""
    return f"#{index + 1} ({scheme_of(url) or 'no scheme'})"


def url_problems(text: str) -> list[str]:
    """What is wrong with each URL, without showing it: unknown scheme, or a URL Apprise
    cannot use (e.g. a missing token)."""
    quiet_apprise()
    from apprise import Apprise
    from apprise.manager_plugins import NotificationManager

    known = set(NotificationManager().schemas())  # type: ignore[no-untyped-call]
    urls = split_urls(text)
    if not urls:
        return ["no URL found"]
    problems = []
    for index, url in enumerate(urls):
        scheme = scheme_of(url)
        if scheme is None:
            problems.append(f"URL #{index + 1}: no scheme (like ntfy:// or json://)")
        elif scheme not in known:
            problems.append(f"URL #{index + 1}: scheme '{scheme}' is not one Apprise knows")
        elif Apprise.instantiate(url) is None:
            problems.append(f"URL #{index + 1} ({scheme}): Apprise cannot use it (see its docs)")
    return problems


def quiet_apprise() -> None:
    """Apprise logs whole URLs (tokens included): keep its logger silent."""
    logger = logging.getLogger(APPRISE_LOGGER)
    logger.setLevel(logging.CRITICAL + 1)
    logger.propagate = False
