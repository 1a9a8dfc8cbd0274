"""The two kinds of answer a legacy route gives, and helpers to build them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pypowerwall_server.legacy.jsonfmt import dumps_compact

JSON = "application/json"
CSV = "text/plain; charset=utf-8"


@dataclass(frozen=True, slots=True)
class LegacyResponse:
    """A finished answer."""

    status: int  # 200 normally; 404 for an unknown legacy /api/ path
    content_type: str
    body: bytes
    headers: tuple[tuple[str, str], ...] = ()  # e.g. X-Data-Unavailable (not_provided.py)


@dataclass(frozen=True, slots=True)
class Unavailable:
    """The route's primary data is missing: the server answers 503 + Retry-After."""

    reason: str
    plain_text: bool = False  # True for /csv (the 503 body is plain text), else JSON


RouteResult = LegacyResponse | Unavailable


def json_text(text: str) -> LegacyResponse:
    """A body that is already JSON text (the library's jsonformat strings)."""
    return LegacyResponse(200, JSON, text.encode("utf-8"))


def json_body(value: Any, reason_if_unencodable: str = "data cannot be encoded") -> RouteResult:
    """Compact JSON as the proxy's json.dumps; a value JSON cannot hold gives Unavailable."""
    text = dumps_compact(value)
    return Unavailable(reason_if_unencodable) if text is None else json_text(text)


def csv_text(text: str) -> LegacyResponse:
    return LegacyResponse(200, CSV, text.encode("utf-8"))


NOT_FOUND = LegacyResponse(404, JSON, b'{"error": "Not Found"}')
