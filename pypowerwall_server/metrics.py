"""The ONE table of metrics (docs/architecture.md): each row a frozen description that drives MQTT
state, Home Assistant discovery and Prometheus `/metrics` alike. Adding a sensor = adding one row.
Value functions read our typed Readings (never library call names); unknown is None, never 0. Units
and signs as docs/architecture.md: W (grid > 0 imports, battery > 0 discharges), Wh, percent 0-100
with its scale in the name.

Three subjects, one row type: a gateway (GatewayView), the site total of several gateways
(also a GatewayView, built by `site_view`; rows with `site=True`) and a battery unit
(BatteryUnit, rows in BATTERY_METRICS).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar

from pypowerwall_server.control.commands import APP_NAMES, ExportRule, OperatingMode
from pypowerwall_server.gateway_state import GatewayState, TransportStatus
from pypowerwall_server.models import BatteryUnit, MeterEnergy, MeterPower, Readings

S = TypeVar("S")
Value = float | int | str | bool | None
Platform = Literal["sensor", "binary_sensor"]
EntityCategory = Literal["diagnostic", "config"]
StateClass = Literal["measurement", "total_increasing"]
Direction = Literal["imported_wh", "exported_wh"]

# Idle batteries read a few tens of W either way; below this they are not "charging".
CHARGING_THRESHOLD_W = 50.0
GRID_STATUSES = ("UP", "DOWN", "SYNCING")
EXPORT_RULES = tuple(rule.value for rule in ExportRule)
OPERATING_MODES = tuple(mode.value for mode in OperatingMode)


@dataclass(frozen=True, slots=True)
class GatewayView:
    """What the gateway value functions read: the newest Readings plus what the server
    knows about its connection. `readings` is all-unknown before the first poll."""

    readings: Readings
    mode: str | None = None
    online: bool | None = None
    age_seconds: float | None = None
    last_error: str | None = None
    transport: TransportStatus | None = None  # the transport chain's own view


@dataclass(frozen=True, slots=True)
class Metric(Generic[S]):
    key: str  # stable: part of MQTT unique_ids, state JSON keys and Prometheus names
    name: str
    value: Callable[[S], Value]
    unit: str | None = None
    device_class: str | None = None  # Home Assistant's
    state_class: StateClass | None = None
    entity_category: EntityCategory | None = None
    enabled_by_default: bool = True
    platform: Platform = "sensor"
    options: tuple[str, ...] | None = None  # device class "enum": every possible state
    labels: Mapping[str, str] | None = None  # option -> what Home Assistant shows for it
    attributes: Callable[[S], Mapping[str, Any] | None] | None = None
    site: bool = False  # also a row of the site-total device

    @property
    def counter(self) -> bool:
        """A lifetime counter: withheld when unknown, never 0, never going backwards."""
        return self.state_class == "total_increasing"

    @property
    def numeric(self) -> bool:
        """Has a number (or a 0/1) to show in /metrics."""
        return self.platform == "binary_sensor" or (
            self.unit is not None or self.state_class is not None
        )


def gateway_view(state: GatewayState, now: float) -> GatewayView:
    snapshot = state.snapshot
    return GatewayView(
        readings=snapshot.readings if snapshot is not None else Readings(),
        mode=state.mode,
        online=state.online,
        age_seconds=state.age(now),
        last_error=state.last_error,
        transport=state.transport,
    )


def battery_id(index: int, unit: BatteryUnit) -> str:
    """A battery's stable id within its gateway: its serial, else its position."""
    return unit.serial or f"battery{index + 1}"


# --- value functions -----------------------------------------------------------------
def _power(meter: str) -> Callable[[GatewayView], Value]:
    def read(view: GatewayView) -> Value:
        power: MeterPower | None = view.readings.power_w
        return None if power is None else getattr(power, meter)

    return read


def _energy(
    meter: str, direction: Literal["imported_wh", "exported_wh"]
) -> Callable[[GatewayView], Value]:
    def read(view: GatewayView) -> Value:
        counters: MeterEnergy | None = view.readings.energy_wh.get(meter)
        value = None if counters is None else getattr(counters, direction)
        return value if value is not None and value > 0 else None  # 0 means "not known"

    return read


def _aggregate_field(meter: str, name: str) -> Callable[[GatewayView], Value]:
    """A meter field from the library's aggregates as the gateway gave it (volts, amps, Hz)."""

    def read(view: GatewayView) -> Value:
        aggregates = view.readings.verbatim.get("aggregates")
        section = aggregates.get(meter) if isinstance(aggregates, Mapping) else None
        value = section.get(name) if isinstance(section, Mapping) else None
        if not isinstance(value, int | float) or isinstance(value, bool):
            return None
        return None if name == "frequency" and value == 0 else value  # 0 Hz: not measured

    return read


def _charging(view: GatewayView) -> Value:
    power = view.readings.power_w
    return None if power is None else power.battery < -CHARGING_THRESHOLD_W


def _grid_status(view: GatewayView) -> Value:
    status = view.readings.grid_status
    return status if status in GRID_STATUSES else None


def _grid_connected(view: GatewayView) -> Value:
    status = view.readings.grid_status
    return None if status not in GRID_STATUSES else status == "UP"


def _export_rule(view: GatewayView) -> Value:
    rule = view.readings.grid_export
    return rule if rule in EXPORT_RULES else None


def _operating_mode(view: GatewayView) -> Value:
    mode = view.readings.operating_mode
    return mode if mode in OPERATING_MODES else None


def _alert_count(view: GatewayView) -> Value:
    alerts = view.readings.alerts
    return None if alerts is None else len(alerts)


def _alert_list(view: GatewayView) -> Mapping[str, Any] | None:
    alerts = view.readings.alerts
    return None if alerts is None else {"alerts": list(alerts)}


def _active_transport(view: GatewayView) -> Value:
    return None if view.transport is None else view.transport.active


def _on_fallback(view: GatewayView) -> Value:
    return None if view.transport is None else view.transport.on_fallback


def _degraded(view: GatewayView) -> Value:
    """As /api/gateways says it: the newest answer cannot be right for this site (unknown
    while there is no answer at all)."""
    if view.transport is None or view.age_seconds is None:
        return None
    return view.transport.degraded is not None


def _degraded_reason(view: GatewayView) -> Value:
    return None if view.transport is None else view.transport.degraded


def _hottest(view: GatewayView) -> Value:
    known = [t for t in view.readings.temperatures_c.values() if t is not None]
    return max(known) if known else None


def _temperatures(view: GatewayView) -> Mapping[str, Any] | None:
    temps = view.readings.temperatures_c
    return {"temperatures_c": dict(temps)} if temps else None


def _r(view: GatewayView) -> Readings:
    return view.readings


# Row makers for the common kinds, so the table reads one row per line.
def _power_row(key: str, name: str, meter: str, site: bool = True) -> Metric[GatewayView]:
    return Metric(key, name, _power(meter), "W", "power", "measurement", site=site)


def _counter_row(key: str, name: str, meter: str, direction: Direction) -> Metric[GatewayView]:
    return Metric(
        key, name, _energy(meter, direction), "Wh", "energy", "total_increasing", site=True
    )


def _stored_row(key: str, name: str, value: Callable[[S], Value], site: bool) -> Metric[S]:
    return Metric(key, name, value, "Wh", "energy_storage", "measurement", site=site)


def _electrical_rows(meter: str, label: str) -> tuple[Metric[GatewayView], ...]:
    """A meter's volts, amps and hertz (disabled by default: few users want them); keys
    begin with the label, as the power rows' do (grid_voltage, named "Grid voltage")."""
    rows = (
        ("voltage", "instant_average_voltage", "V"),
        ("current", "instant_average_current", "A"),
        ("frequency", "frequency", "Hz"),
    )
    return tuple(
        Metric(f"{label.lower()}_{kind}", f"{label} {kind}", _aggregate_field(meter, field_name),
               unit, kind, "measurement", enabled_by_default=False)
        for kind, field_name, unit in rows
    )  # fmt: skip


def _diagnostic_text(
    key: str, name: str, value: Callable[[GatewayView], Value]
) -> Metric[GatewayView]:
    return Metric(key, name, value, entity_category="diagnostic")


def _binary(
    key: str,
    name: str,
    value: Callable[[GatewayView], Value],
    device_class: str,
    entity_category: EntityCategory | None = None,
    site: bool = False,
) -> Metric[GatewayView]:
    return Metric(key, name, value, device_class=device_class, platform="binary_sensor",
                  entity_category=entity_category, site=site)  # fmt: skip


# --- the table -----------------------------------------------------------------------
GATEWAY_METRICS: tuple[Metric[GatewayView], ...] = (
    # power, W (grid > 0 imports, battery > 0 discharges: Home Assistant's power flow signs)
    _power_row("grid_power", "Grid power", "site"),
    _power_row("solar_power", "Solar power", "solar"),
    _power_row("home_power", "Home power", "load"),
    _power_row("battery_power", "Battery power", "battery"),
    *_electrical_rows("site", "Grid"),
    *_electrical_rows("load", "Home"),
    # energy, Wh: lifetime counters (withheld when unknown or going backwards)
    _counter_row("grid_import_energy", "Grid import", "site", "imported_wh"),
    _counter_row("grid_export_energy", "Grid export", "site", "exported_wh"),
    _counter_row("solar_energy", "Solar produced", "solar", "exported_wh"),
    _counter_row("home_energy", "Home consumed", "load", "imported_wh"),
    _counter_row("battery_charge_energy", "Battery charged", "battery", "imported_wh"),
    _counter_row("battery_discharge_energy", "Battery discharged", "battery", "exported_wh"),
    # battery
    Metric("battery_level", "Battery", lambda v: _r(v).soe_percent_app, "%", "battery",
           "measurement", site=True),
    Metric("battery_level_raw", "Battery (gateway scale)", lambda v: _r(v).soe_percent_raw, "%",
           None, "measurement", "diagnostic", site=True),
    _stored_row("energy_remaining", "Energy remaining", lambda v: _r(v).energy_remaining_wh, True),
    _stored_row("full_pack_energy", "Full pack energy", lambda v: _r(v).capacity_wh, True),
    Metric("time_remaining", "Time remaining", lambda v: _r(v).time_remaining_hours, "h",
           "duration", "measurement"),
    _binary("battery_charging", "Battery charging", _charging, "battery_charging", site=True),
    # grid
    Metric("grid_status", "Grid status", _grid_status, device_class="enum", options=GRID_STATUSES),
    _binary("grid_connected", "Grid connected", _grid_connected, "connectivity"),
    # settings, as state (their controls over MQTT: mqtt/controls.py)
    Metric("backup_reserve", "Backup reserve", lambda v: _r(v).backup_reserve_percent_app, "%",
           None, "measurement"),
    Metric("operating_mode", "Operating mode", _operating_mode, device_class="enum",
           options=OPERATING_MODES, labels=APP_NAMES),
    Metric("export_rule", "Export rule", _export_rule, device_class="enum", options=EXPORT_RULES,
           labels=APP_NAMES),
    Metric("grid_charging", "Grid charging", lambda v: _r(v).grid_charging,
           platform="binary_sensor"),
    # diagnostics
    _diagnostic_text("firmware", "Firmware", lambda v: _r(v).firmware_version),
    _diagnostic_text("connection_mode", "Connection mode", lambda v: v.mode),
    _binary("online", "Online", lambda v: v.online, "connectivity", "diagnostic"),
    Metric("data_age", "Data age", lambda v: v.age_seconds, "s", "duration", "measurement",
           "diagnostic", enabled_by_default=False),
    _diagnostic_text("last_error", "Last error", lambda v: v.last_error),
    # the transport chain, as /api/gateways reports it (text rows are not in /metrics)
    _diagnostic_text("transport", "Active transport", _active_transport),
    _binary("on_fallback", "On fallback transport", _on_fallback, "problem", "diagnostic"),
    _binary("degraded", "Degraded data", _degraded, "problem", "diagnostic"),
    _diagnostic_text("degraded_reason", "Degraded data reason", _degraded_reason),
    Metric("alerts", "Alerts", _alert_count, None, None, "measurement", "diagnostic",
           attributes=_alert_list),
    Metric("temperature_max", "Hottest battery temperature", _hottest, "°C", "temperature",
           "measurement", "diagnostic", attributes=_temperatures),
)  # fmt: skip

BATTERY_METRICS: tuple[Metric[BatteryUnit], ...] = (
    _stored_row("energy_remaining", "Energy remaining", lambda b: b.energy_remaining_wh, False),
    _stored_row("capacity", "Capacity", lambda b: b.capacity_wh, False),
    Metric("power", "Power", lambda b: b.power_w, "W", "power", "measurement"),
)

SITE_METRICS: tuple[Metric[GatewayView], ...] = tuple(m for m in GATEWAY_METRICS if m.site)


# --- the site total ------------------------------------------------------------------
def site_view(
    power: Mapping[str, Any] | None,
    soe: Mapping[str, Any] | None,
    gateways: Sequence[GatewayView],
    all_fresh: bool,
) -> GatewayView:
    """The site-total device's view: power and state of energy exactly as the aggregate
    answers give them (aggregate.py); lifetime counters summed only while every gateway is
    fresh and knows them (a partial sum would go backwards)."""
    return GatewayView(
        Readings(
            power_w=MeterPower(power["site"], power["battery"], power["load"], power["solar"])
            if power is not None
            else None,
            energy_wh=_summed_counters(gateways) if all_fresh else {},
            soe_percent_raw=soe["percent_raw"] if soe is not None else None,
            soe_percent_app=soe["percent_app"] if soe is not None else None,
            capacity_wh=soe["total_capacity_wh"] if soe is not None else None,
            energy_remaining_wh=soe["energy_remaining_wh"] if soe is not None else None,
        )
    )


def _summed_counters(gateways: Sequence[GatewayView]) -> dict[str, MeterEnergy]:
    meters = {meter for view in gateways for meter in view.readings.energy_wh}
    return {meter: _sum_meter(meter, gateways) for meter in meters}


def _sum_meter(meter: str, gateways: Sequence[GatewayView]) -> MeterEnergy:
    def total(direction: str) -> float | None:
        values: list[float | None] = [
            getattr(g.readings.energy_wh.get(meter), direction, None) for g in gateways
        ]
        known = [v for v in values if v is not None]
        return sum(known) if len(known) == len(values) else None

    return MeterEnergy(total("imported_wh"), total("exported_wh"))


# --- counters never go backwards -----------------------------------------------------
@dataclass
class CounterGuard:
    """Withholds a lifetime counter that dropped below the highest value already shown
    (a glitch Home Assistant would count twice), until it is plausible again: back at or
    above that value, or steadily at its new level for `reset_after` readings (a meter
    that really restarted from zero)."""

    reset_after: int = 30
    _highest: dict[tuple[str, str], float] = field(default_factory=dict)
    _below: dict[tuple[str, str], int] = field(default_factory=dict)

    def admit(self, device: str, key: str, value: float | None) -> float | None:
        if value is None:
            return None
        slot = (device, key)
        highest = self._highest.get(slot)
        if highest is None or value >= highest:
            self._highest[slot] = value
            self._below.pop(slot, None)
            return value
        below = self._below.get(slot, 0) + 1
        if below >= self.reset_after:
            self._highest[slot] = value
            self._below.pop(slot, None)
            return value
        self._below[slot] = below
        return None

    def forget(self, device: str) -> None:
        for slot in [s for s in self._highest if s[0] == device]:
            del self._highest[slot]
            self._below.pop(slot, None)


def values_of(
    metrics: Sequence[Metric[S]], subject: S, device: str, guard: CounterGuard | None
) -> dict[str, Value]:
    """Each row's value for one device (key → value, None = unknown); counters pass the
    guard when one is given."""
    values: dict[str, Value] = {}
    for metric in metrics:
        value = metric.value(subject)
        if metric.counter and guard is not None:
            value = guard.admit(
                device, metric.key, value if isinstance(value, float | int) else None
            )
        values[metric.key] = value
    return values
