"""Fault definitions and the per-gateway book of active faults.

A fault has a kind and an optional scope: a path pattern (glob or regex; requests whose path
does not match are untouched), a count (the next N matching requests) and/or a duration
(seconds from when it was set). Without count and duration it lasts until cleared.

Kinds that shape one answer (transport): latency, hang, status, truncated, garbage.
Kinds that act on a connection or port: tls_failure (per new connection), refused (the
port stops listening). Kinds that change the site (app): wrong_password, grid_outage,
missing_powerwall, firmware, solar_only, slow_apply; these are global while active, and a path
pattern only chooses which requests use up their count. solar_only is the "solar only" state
of a confused gateway: its local answers (local API meter aggregates, TEDAPI meterAggregates)
lose the battery and grid meters; the Fleet API (the cloud's own copy) keeps them.
slow_apply: the gateway accepts settings writes (reserve, mode, grid charging, export rule;
over v1r, the Fleet API, the local API or the admin API) and applies them `delay_s` real
seconds later, so reads show the old value until then.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, cast, get_args

FaultKind = Literal[
    "latency",
    "hang",
    "status",
    "truncated",
    "garbage",
    "tls_failure",
    "refused",
    "wrong_password",
    "grid_outage",
    "missing_powerwall",
    "firmware",
    "solar_only",
    "slow_apply",
    "alert",
]
FAULT_KINDS: tuple[str, ...] = get_args(FaultKind)
RESPONSE_KINDS = frozenset({"hang", "status", "truncated", "garbage"})
APP_KINDS = frozenset(
    {
        "wrong_password",
        "grid_outage",
        "missing_powerwall",
        "firmware",
        "solar_only",
        "slow_apply",
        "alert",
    }
)
KIND_FIELDS = {
    "latency": "latency_ms",
    "status": "status",
    "missing_powerwall": "index",
    "firmware": "version",
    "slow_apply": "delay_s",
    "alert": "alert",
}
_ALL_KIND_FIELDS = frozenset(KIND_FIELDS.values())
# At most one active fault of these kinds per gateway; a new one replaces the old one.
EXCLUSIVE_KINDS = APP_KINDS | {"refused"}


class FaultError(ValueError):
    """A fault description that cannot be applied (the admin API answers 400)."""


@dataclass(frozen=True, slots=True)
class Fault:
    kind: FaultKind
    path: str | None = None  # glob on the request path, e.g. "/api/meters/*"
    path_regex: str | None = None  # regex searched in the request path
    count: int | None = None  # the next N matching requests (or connections, tls_failure)
    duration: float | None = None  # seconds from now
    latency_ms: float = 0.0  # latency
    status: int = 503  # status: the HTTP status to answer
    index: int = 0  # missing_powerwall: 0-based unit index
    version: str = ""  # firmware: e.g. "23.36.1 abc"
    delay_s: float = 0.0  # slow_apply: seconds between accepting a write and applying it
    alert: str = ""  # alert: the name of an extra active alert, e.g. "BatteryFault"

    def __post_init__(self) -> None:
        _validate(self)

    def to_json(self) -> dict[str, Any]:
        """The fault's fields, without the kind-specific ones of other kinds."""
        own = KIND_FIELDS.get(self.kind)
        return {k: v for k, v in asdict(self).items() if k not in _ALL_KIND_FIELDS or k == own}

    def matches(self, path: str) -> bool:
        if self.path is not None and not fnmatch.fnmatchcase(path, self.path):
            return False
        return self.path_regex is None or re.search(self.path_regex, path) is not None


def _validate(fault: Fault) -> None:
    if fault.kind not in FAULT_KINDS:
        raise FaultError(f"unknown fault kind {fault.kind!r}; known: {', '.join(FAULT_KINDS)}")
    if fault.count is not None and (type(fault.count) is not int or fault.count < 1):
        raise FaultError("count must be an integer >= 1")
    if fault.duration is not None and not _positive_number(fault.duration):
        raise FaultError("duration must be a number of seconds > 0")
    if fault.path_regex is not None:
        try:
            re.compile(fault.path_regex)
        except re.error as exc:
            raise FaultError(f"bad path_regex: {exc}") from exc
    _validate_kind_fields(fault)


def _validate_kind_fields(fault: Fault) -> None:
    scoped_by_path = fault.path is not None or fault.path_regex is not None
    if fault.kind == "latency" and not (_positive_number(fault.latency_ms)):
        raise FaultError("latency needs latency_ms > 0")
    if fault.kind == "status" and not (type(fault.status) is int and 400 <= fault.status <= 599):
        raise FaultError("status needs an HTTP status between 400 and 599")
    if fault.kind == "missing_powerwall" and not (type(fault.index) is int and fault.index >= 0):
        raise FaultError("missing_powerwall needs index >= 0")
    if fault.kind == "firmware" and not (isinstance(fault.version, str) and fault.version):
        raise FaultError("firmware needs a version string")
    if fault.kind == "slow_apply" and not _positive_number(fault.delay_s):
        raise FaultError("slow_apply needs delay_s > 0")
    if fault.kind == "alert" and not (isinstance(fault.alert, str) and fault.alert.isidentifier()):
        raise FaultError("alert needs an alert name (letters, digits, '_')")
    if fault.kind == "tls_failure" and scoped_by_path:
        raise FaultError("tls_failure happens before any path is known; use count/duration")
    if fault.kind == "refused" and (scoped_by_path or fault.count is not None):
        raise FaultError("refused can only be scoped by duration")


def _positive_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value > 0


def fault_from_json(data: object) -> Fault:
    """Build a Fault from a decoded JSON object; FaultError for anything malformed."""
    if not isinstance(data, Mapping):
        raise FaultError("a fault is a JSON object")
    known = set(Fault.__dataclass_fields__)
    unknown = set(data) - known
    if unknown:
        raise FaultError(f"unknown fault fields: {', '.join(sorted(map(str, unknown)))}")
    if "kind" not in data:
        raise FaultError("a fault needs a kind")
    try:
        return Fault(**cast(dict[str, Any], dict(data)))
    except TypeError as exc:
        raise FaultError(str(exc)) from exc


@dataclass(eq=False, slots=True)
class ActiveFault:
    id: int
    fault: Fault
    set_at: float  # monotonic seconds
    remaining: int | None  # uses left when scoped by count
    previous: Any = None  # app kinds: the value to restore when the fault ends
    hung: int = field(default=0)  # requests currently held by this hang fault

    @property
    def expires_at(self) -> float | None:
        duration = self.fault.duration
        return None if duration is None else self.set_at + duration

    def to_json(self, now: float) -> dict[str, Any]:
        expires = self.expires_at
        return {
            "id": self.id,
            **self.fault.to_json(),
            "remaining": self.remaining,
            "expires_in": None if expires is None else max(0.0, round(expires - now, 3)),
        }


@dataclass(slots=True)
class RequestPlan:
    """What the faults do to one request."""

    latency_s: float = 0.0
    action: ActiveFault | None = None  # hang / status / truncated / garbage
    spent: list[ActiveFault] = field(default_factory=list)  # count reached 0 on this request


class FaultBook:
    """The active faults of one gateway. Not thread-safe: used on the event loop only."""

    def __init__(self) -> None:
        self._active: dict[int, ActiveFault] = {}
        self._next_id = 1

    def add(self, fault: Fault, now: float) -> tuple[ActiveFault, ActiveFault | None]:
        """Activate a fault; returns it and the exclusive fault of the same kind it replaced."""
        replaced = None
        if fault.kind in EXCLUSIVE_KINDS:
            replaced = next((a for a in self._active.values() if a.fault.kind == fault.kind), None)
            if replaced is not None:
                del self._active[replaced.id]
        active = ActiveFault(self._next_id, fault, now, fault.count)
        self._active[active.id] = active
        self._next_id += 1
        return active, replaced

    def remove(self, fault_id: int) -> ActiveFault | None:
        return self._active.pop(fault_id, None)

    def get(self, fault_id: int) -> ActiveFault | None:
        return self._active.get(fault_id)

    def active(self) -> list[ActiveFault]:
        return list(self._active.values())

    def of_kind(self, kind: str) -> ActiveFault | None:
        return next((a for a in self._active.values() if a.fault.kind == kind), None)

    def take_tls_failure(self) -> bool:
        """Whether a new connection should fail its TLS handshake (uses up one count)."""
        active = self.of_kind("tls_failure")
        if active is None:
            return False
        self._use(active)
        return True

    def plan(self, path: str) -> RequestPlan:
        """Decide what happens to a request for `path`, using up counts."""
        plan = RequestPlan()
        for active in list(self._active.values()):
            kind = active.fault.kind
            if kind in ("tls_failure", "refused") or not active.fault.matches(path):
                continue
            if kind == "latency":
                plan.latency_s += active.fault.latency_ms / 1000.0
            elif kind in RESPONSE_KINDS:
                if plan.action is not None:
                    continue  # the oldest response fault wins; later ones keep their count
                plan.action = active
            if self._use(active):
                plan.spent.append(active)
        return plan

    def _use(self, active: ActiveFault) -> bool:
        """Use one count; True when that was the last and the fault is now gone."""
        if active.remaining is None:
            return False
        active.remaining -= 1
        if active.remaining > 0:
            return False
        self._active.pop(active.id, None)
        return True

    def clear(self) -> list[ActiveFault]:
        gone = list(self._active.values())
        self._active.clear()
        return gone
