"""Per-client rate limit (PW_RATE_LIMIT): a token bucket per client address.

Each address may make `rate` requests a second on average, with bursts of two seconds'
worth (at least 20: one page of the UI loads a dozen files at once). Memory is bounded by
`max_clients`: the address idle longest is forgotten first (it then starts with a full
bucket, as a new client does).
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

MIN_BURST = 20.0


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: float


class ClientRateLimit:
    """Used from the event loop only (no lock): take() never blocks."""

    def __init__(
        self,
        rate: float,
        *,
        max_clients: int = 4096,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if rate <= 0 or max_clients < 1:
            raise ValueError("rate and max_clients must be positive")
        self.rate = rate
        self.burst = max(MIN_BURST, 2 * rate)
        self._max_clients = max_clients
        self._clock = clock
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def take(self, client: str) -> int | None:
        """None: the request may go on. Else the whole seconds (>= 1) until it may."""
        now = self._clock()
        bucket = self._buckets.pop(client, None)
        if bucket is None:
            bucket = _Bucket(self.burst, now)
        else:
            elapsed = max(0.0, now - bucket.updated)
            bucket.tokens = min(self.burst, bucket.tokens + elapsed * self.rate)
            bucket.updated = now
        self._buckets[client] = bucket  # the most recent last
        while len(self._buckets) > self._max_clients:
            self._buckets.popitem(last=False)
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return None
        return max(1, math.ceil((1.0 - bucket.tokens) / self.rate))

    def tracked_clients(self) -> int:
        return len(self._buckets)
