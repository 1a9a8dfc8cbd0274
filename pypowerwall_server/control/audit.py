"""The audit trail: one entry per write attempt (time, client address, gateway, what,
old -> new, result), kept in a bounded ring for a read route and logged as one line.

Attempts refused before a write existed (origin, token, body) have a ring of their own, so
a flood of them never pushes the real writes out, and their log lines are rate-limited: one
a minute, saying how many were left out.

An entry never holds a secret: the token is never passed in, and every configured secret
is scrubbed from each field anyway (a client may send its token as a value by mistake).
Fields are length-capped when recorded and quoted when logged, so a hostile value cannot
forge a log line or another field.
"""

from __future__ import annotations

import heapq
import json
import logging
import re
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from pypowerwall_server.log_limit import RateLimitedLog

log = logging.getLogger(__name__)

MAX_FIELD_CHARS = 64
_BARE = re.compile(r"[\w.:/%+@-]+", re.ASCII)  # logged without quotes

Value = str | int | float | bool | None


@dataclass(frozen=True, slots=True)
class AuditEntry:
    at: float  # epoch seconds
    client: str
    gateway_id: str
    what: str
    old: str | None
    new: str | None
    result: str

    def as_dict(self) -> dict[str, str | None]:
        """The shape of the read route's answer."""
        return {
            "time": datetime.fromtimestamp(self.at, UTC).isoformat(timespec="seconds"),
            "client": self.client,
            "gateway": self.gateway_id,
            "what": self.what,
            "old": self.old,
            "new": self.new,
            "result": self.result,
        }

    def log_line(self) -> str:
        fields = [
            ("client", self.client),
            ("gateway", self.gateway_id),
            ("what", self.what),
            ("old", self.old),
            ("new", self.new),
            ("result", self.result),
        ]
        return "control write: " + " ".join(f"{k}={_quoted(v)}" for k, v in fields)


REFUSAL_CAPACITY = 50
SUMMARY_SECONDS = 60.0


class AuditTrail:
    """The last `capacity` write attempts and the last refusals, newest last; each write
    logged at INFO, refusals summarised."""

    def __init__(
        self,
        capacity: int = 100,
        *,
        refusal_capacity: int = REFUSAL_CAPACITY,
        summary_seconds: float = SUMMARY_SECONDS,
        secrets: tuple[str, ...] = (),
        clock: Callable[[], float] = time.time,
        logger: logging.Logger = log,
    ) -> None:
        if capacity < 1:
            raise ValueError("audit capacity must be positive")
        self._entries: deque[AuditEntry] = deque(maxlen=capacity)
        self._refusals: deque[AuditEntry] = deque(maxlen=refusal_capacity)
        self._refusal_log = RateLimitedLog(logger, summary_seconds, clock)
        self._secrets = tuple(s for s in secrets if s)
        self._clock = clock
        self._log = logger
        # Told of every write once recorded (history keeps them; events/ tells of results).
        self.listeners: list[Callable[[AuditEntry], None]] = []

    def record(
        self, *, client: str, gateway_id: str, what: str, old: Value, new: Value, result: str
    ) -> AuditEntry:
        entry = self._entry(client, gateway_id, what, old, new, result)
        self._entries.append(entry)
        self._log.info("%s", entry.log_line())
        for listener in self.listeners:
            listener(entry)
        return entry

    def refused(self, *, client: str, gateway_id: str, what: str, result: str) -> AuditEntry:
        """An attempt refused before any write: kept apart, its log line summarised."""
        entry = self._entry(client, gateway_id, what, None, None, result)
        self._refusals.append(entry)
        self._refusal_log.log(logging.INFO, "refused", "%s", entry.log_line())
        return entry

    def _entry(
        self, client: str, gateway_id: str, what: str, old: Value, new: Value, result: str
    ) -> AuditEntry:
        return AuditEntry(
            at=self._clock(),
            client=self._clean(client) or "",
            gateway_id=self._clean(gateway_id) or "",
            what=self._clean(what) or "",
            old=self._clean(old),
            new=self._clean(new),
            result=self._clean(result) or "",
        )

    def recent(self, limit: int | None = None) -> list[AuditEntry]:
        """Writes and refusals, newest first; at most `limit` entries."""
        entries = list(
            heapq.merge(reversed(self._entries), reversed(self._refusals), key=_newest_first)
        )
        return entries if limit is None else entries[: max(0, limit)]

    def writes(self) -> list[AuditEntry]:
        """The write attempts alone, newest first."""
        return list(reversed(self._entries))

    def _clean(self, value: Value) -> str | None:
        text = value_text(value)
        if text is None:
            return None
        for secret in self._secrets:
            text = text.replace(secret, "***")
        if len(text) > MAX_FIELD_CHARS:
            text = text[: MAX_FIELD_CHARS - 3] + "..."
        return text


def _newest_first(entry: AuditEntry) -> float:
    return -entry.at


def value_text(value: Value) -> str | None:
    """How a value reads in the audit: true/false, 20, 20.5, or the string itself."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _quoted(value: str | None) -> str:
    """Bare when plainly safe; else a JSON string (escapes quotes, control characters,
    line breaks and non-ASCII), so one entry is always one unambiguous line."""
    if value is None:
        return "-"
    return value if _BARE.fullmatch(value) and value != "-" else json.dumps(value)
