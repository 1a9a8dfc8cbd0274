"""Response models: they document the JSON in /docs. The hot routes return pre-encoded bytes,
so these are not validated per request."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

CAPACITY_SOURCE = (
    "where capacity_wh came from: system_status (nominal_full_pack_energy), battery_blocks "
    "(their sum), site_info (nominal_system_energy_kWh) or powerwall_model (13.5 kWh per "
    "Powerwall 2, Powerwall 3 or Expansion); null when unknown"
)


class ErrorBody(BaseModel):
    error: str


class TransportLink(BaseModel):
    name: str = Field(description="tedapi, v1r, local, cloud or fleetapi")
    state: str = Field(description="ok, failing or untried")
    failing_since: float | None = Field(description="epoch seconds the failures began")
    consecutive_failures: int
    last_error: str | None = Field(description="newest failure or degraded-data reason")
    next_probe: float | None = Field(description="epoch seconds of the next recovery probe")


class TransportInfo(BaseModel):
    active: str = Field(description="the transport the newest data came from")
    preferred: str
    on_fallback: bool
    failovers: int = Field(description="switches to a less preferred transport so far")
    recoveries: int = Field(description="switches back to a more preferred one so far")
    active_since: float | None = Field(
        default=None, description="epoch seconds of the last switch (null: since the start)"
    )
    degraded: bool
    degraded_reason: str | None
    transports: list[TransportLink] = Field(description="in preference order")


class GatewaySummary(BaseModel):
    id: str
    name: str
    mode: str = Field(description="tedapi, local, cloud or fleetapi")
    online: bool = Field(description="the last poll succeeded")
    last_updated: float | None = Field(description="epoch seconds of the newest data")
    age_seconds: float | None
    stale: bool = Field(description="newest data older than the stale limit (or none yet)")
    poll_interval: float
    last_error: str | None
    problem: str | None = Field(
        description="kind of the current outage: unreachable, busy, auth_failed (or null)"
    )
    hint: str | None = Field(description="what to do about the problem, when anything helps")
    degraded: bool = Field(
        default=False, description="the newest data cannot be right for this site"
    )
    transport: TransportInfo | None = Field(
        default=None, description="ordered transports with failover (null: not a chain)"
    )


class GatewayList(BaseModel):
    gateways: list[GatewaySummary]


class SoeDetail(BaseModel):
    percent_raw: float | None = Field(description="gateway scale, 0-100")
    percent_app: float | None = Field(description="Tesla app scale: (raw - 5) / 0.95")
    capacity_wh: float | None
    capacity_source: str | None = Field(description=CAPACITY_SOURCE)
    energy_remaining_wh: float | None


class GatewayData(BaseModel):
    power_w: dict[str, float] | None = Field(
        description="site (+import), battery (+discharge), load, solar (+production), in W"
    )
    soe: SoeDetail
    grid_status: str | None
    backup_reserve_percent_app: float | None
    operating_mode: str | None
    time_remaining_hours: float | None
    firmware_version: str | None
    site_name: str | None
    transport: str | None = Field(default=None, description="the transport this data came from")


class GatewayDetail(GatewaySummary):
    data: GatewayData


class PowerEntry(BaseModel):
    id: str
    counted: bool = Field(description="included in the totals (fresh, with meter data)")
    stale: bool
    updated_at: float | None
    site: float | None
    battery: float | None
    load: float | None
    solar: float | None


class AggregatePower(BaseModel):
    site: float = Field(description="W, positive = importing from the grid")
    grid: float = Field(description="same as site")
    battery: float = Field(description="W, positive = discharging")
    load: float = Field(description="W, positive = consuming")
    solar: float = Field(description="W, positive = producing")
    complete: bool = Field(description="every configured gateway is counted")
    gateways: list[PowerEntry]


class SoeEntry(BaseModel):
    id: str
    counted: bool = Field(description="in the total: fresh, with a known capacity")
    stale: bool
    has_battery: bool | None = Field(
        description="reports battery power, a state of energy or batteries (null: no data)"
    )
    capacity_wh: float | None
    capacity_source: str | None = Field(description=CAPACITY_SOURCE)
    energy_remaining_wh: float | None
    percent_raw: float | None
    percent_app: float | None


class AggregateSoe(BaseModel):
    percent_raw: float = Field(description="capacity-weighted, gateway scale 0-100")
    percent_app: float = Field(description="capacity-weighted, Tesla app scale 0-100")
    total_capacity_wh: float
    energy_remaining_wh: float
    complete: bool
    gateways: list[SoeEntry]


class AggregateStatus(BaseModel):
    gateways: list[GatewaySummary]
    total: int
    fresh: int
    stale: int
    online: int


class HealthGateway(BaseModel):
    id: str
    fresh: bool
    online: bool
    age_seconds: float | None
    last_error: str | None
    problem: str | None = Field(
        description="kind of the current outage: unreachable, busy, auth_failed (or null)"
    )
    hint: str | None = Field(description="what to do about the problem, when anything helps")
    transport: str | None = Field(default=None, description="the active transport")
    degraded: list[str] = Field(
        default_factory=list,
        description="why this gateway makes the server degraded: on a fallback transport, "
        "or serving degraded data",
    )


class HistoryStatus(BaseModel):
    on: bool
    ok: bool = Field(description="the history file is open and written")
    problem: str | None = Field(description="why history is off or broken (null when ok)")
    file: str | None = None
    dropped_writes: int | None = None


class Health(BaseModel):
    status: str = Field(description="healthy, degraded or unhealthy")
    gateways: list[HealthGateway]
    history: HistoryStatus | None = Field(
        default=None, description="the history store; its problems never affect live data"
    )
    events: dict[str, Any] | None = Field(
        default=None,
        description="newest event id and notification delivery per URL (shown as #n (scheme))",
    )


class VersionInfo(BaseModel):
    server: str
    pypowerwall: str


class EventItem(BaseModel):
    id: int = Field(description="increasing; use the newest as the next `since`")
    time: str = Field(description="ISO 8601, UTC")
    ts: float = Field(description="epoch seconds")
    gateway: str | None = Field(description="gateway id; null for the site")
    kind: str = Field(description="grid_outage, grid_restored, gateway_offline, ...")
    severity: str = Field(description="info, warning or critical")
    message: str = Field(description="one human sentence")
    count: int = Field(description="times the condition came back while held (flapping)")
    values: dict[str, Any] = Field(description="the values behind the sentence")


class EventList(BaseModel):
    events: list[EventItem]
    last_id: int = Field(description="the newest event's id (0: none yet)")
