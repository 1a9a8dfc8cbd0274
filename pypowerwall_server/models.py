"""Our own types for gateway data: connection facts (GatewayAttributes) apart from per-poll
data (Snapshot, with its typed Readings). All are immutable; a Snapshot's hot response
bodies are encoded once, lazily."""

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
    transport: str | None = None  # which transport answered (gateway/transports.py)


def app_scale(raw_percent: float) -> float:
    """The Tesla app's scale of a raw state of energy: the gateway keeps 5 % in reserve
    (docs/architecture.md, units), clamped to 0-100."""
    return min(100.0, max(0.0, (raw_percent - 5.0) / 0.95))


@dataclass(frozen=True, slots=True)
class MeterPower:
    """instant_power of each meter in W; signs as docs/architecture.md (site > 0 imports, battery >
    0 discharges, solar > 0 produces, load > 0 consumes)."""

    site: float
    battery: float
    load: float
    solar: float

    def as_dict(self) -> dict[str, float]:
        return {"site": self.site, "battery": self.battery, "load": self.load, "solar": self.solar}


@dataclass(frozen=True, slots=True)
class MeterEnergy:
    """A meter's lifetime counters in Wh (never 0 for unknown: None)."""

    imported_wh: float | None
    exported_wh: float | None


@dataclass(frozen=True, slots=True)
class BatteryUnit:
    """One battery (Powerwall) as the gateway's system status lists it."""

    serial: str | None
    capacity_wh: float | None  # nominal full-pack energy
    energy_remaining_wh: float | None
    power_w: float | None  # p_out: > 0 discharging


@dataclass(frozen=True, slots=True)
class SolarString:
    """One PV string (letter + inverter number, e.g. "A", "B1")."""

    name: str
    voltage_v: float | None
    current_a: float | None
    power_w: float | None
    connected: bool | None


# The library values our own API serves verbatim (GET /api/gateways/{id}/{name}).
VerbatimName = Literal["vitals", "aggregates", "strings", "alerts", "status"]
VERBATIM_NAMES: tuple[VerbatimName, ...] = ("vitals", "aggregates", "strings", "alerts", "status")


@dataclass(frozen=True, slots=True)
class Readings:
    """What one poll told us, typed: computed once per Snapshot from the library's results
    (gateway/readings.py). Unknown is None (or empty), never 0. Percentages say their scale:
    "raw" is the gateway's 0-100 (5 % kept in reserve), "app" the Tesla app's scale."""

    power_w: MeterPower | None = None  # None unless all four meters gave a number
    energy_wh: Mapping[str, MeterEnergy] = field(default_factory=dict)  # by meter name
    soe_percent_raw: float | None = None
    soe_percent_app: float | None = None
    capacity_wh: float | None = None  # nominal full-pack energy of all batteries
    energy_remaining_wh: float | None = None
    # Where capacity_wh came from: "system_status", "battery_blocks", "site_info" or
    # "powerwall_model" (gateway/capacity.py); None with capacity_wh None.
    capacity_source: str | None = None
    # The site's battery power limits in W (system_status max_discharge/charge_power).
    max_discharge_power_w: float | None = None
    max_charge_power_w: float | None = None
    grid_status: str | None = None  # "UP", "DOWN", "SYNCING"
    backup_reserve_percent_app: float | None = None
    operating_mode: str | None = None  # e.g. "self_consumption", "backup", "autonomous"
    grid_charging: bool | None = None  # the battery may charge from the grid
    grid_export: str | None = None  # "battery_ok", "pv_only" or "never"
    time_remaining_hours: float | None = None
    firmware_version: str | None = None
    site_name: str | None = None
    batteries: tuple[BatteryUnit, ...] = ()
    strings: tuple[SolarString, ...] = ()
    temperatures_c: Mapping[str, float | None] = field(default_factory=dict)  # by device
    alerts: tuple[str, ...] | None = None  # None: the gateway gave no alert data
    # The library's own values, passed through unchanged (None = the gateway gave none).
    verbatim: Mapping[VerbatimName, Any] = field(default_factory=dict)


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
    age is in `call_times`. `readings` is the typed view of the same results, which
    everything outside gateway/ and legacy/ reads.
    """

    gateway_id: str
    taken_at: float
    calls: Mapping[CallName, Any]  # for legacy/ only: it reproduces the proxy's shapes
    call_times: Mapping[CallName, float]
    attributes: GatewayAttributes
    readings: Readings  # the typed view of `calls` (gateway/readings.py)
    # Per call: how many successful polls in a row made it and got nothing (0 = data last
    # time). legacy/not_provided.py tells "never provided" from "not yet" with it.
    absent_polls: Mapping[CallName, int] = field(default_factory=dict)
    _memo: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def cached(self, key: str) -> Any:
        """The memoized value for `key`, or None if not computed yet (hot path)."""
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
