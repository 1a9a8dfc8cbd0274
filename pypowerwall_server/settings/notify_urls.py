"""Notification URLs (Apprise's): split, checked and shown without their secrets.

An Apprise URL carries its service's token (ntfy topic, Pushover keys, a mail password,
a webhook path), so a URL is only ever shown as its position and scheme: "#2 (ntfy)".
Apprise itself logs URLs: its logger is silenced before it is used (quiet_apprise).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence

APPRISE_LOGGER = "apprise"
SENDER_THREADS = "notify"  # name of the threads that send (notify.py)
# Loggers of the HTTP stack under Apprise that write request lines (path and query, where a
# webhook keeps its token) at DEBUG.
HTTP_LOGGERS = ("urllib3.connectionpool", "urllib3.connection", "urllib3.util.retry", "requests")
MIN_SECRET_PART = 6
_PARTS = re.compile(r"[/?&=@:,#\s]+")
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
    urls = split_urls(text)
    quiet_apprise(urls)
    from apprise import Apprise
    from apprise.manager_plugins import NotificationManager

    known = set(NotificationManager().schemas())  # type: ignore[no-untyped-call]
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


def quiet_apprise(urls: Sequence[str] = ()) -> None:
    """Apprise logs whole URLs (tokens included): keep its logger silent. The HTTP stack
    under it logs request lines at DEBUG (with --debug): a line holding a part of one of
    `urls` (a topic, a webhook token) is dropped."""
    logger = logging.getLogger(APPRISE_LOGGER)
    logger.setLevel(logging.CRITICAL + 1)
    logger.propagate = False
    _WITHOUT_URL_PARTS.parts.update(secret_parts(urls))
    for name in HTTP_LOGGERS:
        http = logging.getLogger(name)
        if _WITHOUT_URL_PARTS not in http.filters:
            http.addFilter(_WITHOUT_URL_PARTS)


def secret_parts(urls: Sequence[str]) -> set[str]:
    """What of each URL may be a secret: every part after the scheme (user, password,
    topic, path segment, query value) of 6 characters or more, except host names and
    addresses (they have dots)."""
    parts = set()
    for url in urls:
        rest = url.split("://", 1)[-1]
        for part in _PARTS.split(rest):
            if len(part) >= MIN_SECRET_PART and "." not in part and part != "localhost":
                parts.add(part)
    return parts


class _WithoutParts(logging.Filter):
    def __init__(self) -> None:
        super().__init__()
        self.parts: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.parts:
            return True
        text = record.getMessage()
        return not any(part in text for part in self.parts)


_WITHOUT_URL_PARTS = _WithoutParts()
