"""What each simulated gateway has been asked: per-path request counts, connection counts
and a ring buffer of recent requests. Benchmarks read these to measure the load a client
puts on a gateway. Thread-safe: written on the simulator's event loop, read from anywhere.
"""

from __future__ import annotations

import threading
from collections import Counter, deque
from dataclasses import asdict, dataclass
from typing import Any

DEFAULT_RING_SIZE = 1000
NO_RESPONSE = 0  # status logged when no answer was sent (hang, client went away)


@dataclass(frozen=True, slots=True)
class RequestRecord:
    time: float  # epoch seconds when the request arrived
    method: str
    path: str
    status: int  # NO_RESPONSE when nothing was answered
    duration_ms: float
    fault: str | None  # the fault kind that shaped the answer, if any

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class RequestLog:
    def __init__(self, ring_size: int = DEFAULT_RING_SIZE) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()
        self._recent: deque[RequestRecord] = deque(maxlen=ring_size)
        self._connections = 0
        self._refused_tls = 0

    def record(self, entry: RequestRecord) -> None:
        with self._lock:
            self._counts[entry.path] += 1
            self._recent.append(entry)

    def connection_opened(self) -> None:
        with self._lock:
            self._connections += 1

    def tls_failed(self) -> None:
        with self._lock:
            self._refused_tls += 1

    def counts(self) -> dict[str, int]:
        """Requests per path since the last reset."""
        with self._lock:
            return dict(self._counts)

    def total(self) -> int:
        with self._lock:
            return sum(self._counts.values())

    def recent(self, limit: int | None = None) -> list[RequestRecord]:
        """Newest last."""
        with self._lock:
            items = list(self._recent)
        return items if limit is None else items[-limit:] if limit > 0 else []

    def summary(self) -> dict[str, Any]:
        with self._lock:
            return {
                "total": sum(self._counts.values()),
                "counts": dict(self._counts),
                "connections": self._connections,
                "tls_failures": self._refused_tls,
            }

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()
            self._recent.clear()
            self._connections = 0
            self._refused_tls = 0
