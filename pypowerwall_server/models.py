"""Our own types for gateway data: static facts (GatewayInfo) apart from per-poll data
(Snapshot). Both are immutable; a Snapshot's hot response bodies are encoded once, lazily."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

T = TypeVar("T")

GatewayMode = Literal["tedapi", "local", "cloud", "fleetapi"]

# A library call's name, exactly as the legacy contract spells it, e.g. "vitals()",
# "poll('/api/meters/aggregates')", "grid_status('numeric')", "tedapi.get_config()".
CallName = str


@dataclass(frozen=True, slots=True)
class GatewayAttributes:
    """Connection facts the legacy routes read besides call results."""

    mode: GatewayMode
    tedapi: bool  # a TEDAPI connection is attached
    pw3: bool
    cloudmode: bool
    fleetapi: bool
    tedapi_mode: str  # "off", "full", "hybrid"
    tedapi_api_version: str | None
    library_version: str


@dataclass(frozen=True, slots=True)
class LegacyOptions:
    """The legacy proxy's PW_NEG_SOLAR and PW_SITE_ZERO_THRESHOLD, and our PW_PERSONAL_DATA."""

    neg_solar: bool = True
    site_zero_threshold: float = 0.0
    personal_data: bool = False


@dataclass(frozen=True, eq=False)
class Snapshot:
    """One gateway's data as of `taken_at` (epoch seconds, server clock).

    `calls` maps each library call made for this snapshot to its result (None = the call
    gave nothing). Calls from slower tiers are carried over from earlier polls; their own
    age is in `call_times`.
    """

    gateway_id: str
    taken_at: float
    calls: Mapping[CallName, Any]
    call_times: Mapping[CallName, float]
    attributes: GatewayAttributes
    _memo: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def cached(self, key: str) -> Any:
        """The memoized value for `key`, or None if not computed yet (fast path)."""
        return self._memo.get(key)

    def memo(self, key: str, compute: Callable[[Snapshot], T]) -> T:
        """Compute a derived value (e.g. an encoded response body) once per Snapshot.
        Races between threads at worst compute the same value twice."""
        try:
            value: T = self._memo[key]
        except KeyError:
            value = compute(self)
            self._memo[key] = value
        return value

    def memo_size(self) -> tuple[int, int]:
        """(entries, bytes of encoded bodies) memoized so far, for /stats."""
        values = list(self._memo.values())
        return len(values), sum(len(getattr(v, "body", b"")) for v in values)
