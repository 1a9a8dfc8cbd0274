"""One reading as history sees it: made from a published gateway state by the server, or
built directly by tests that feed a year through the same ingestion."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from pypowerwall_server.gateway_state import GatewayState
from pypowerwall_server.history.counters import channel_values


@dataclass(frozen=True, slots=True)
class Sample:
    """What a poll told us at `t` (epoch seconds). Power in W with the usual signs, SoE in
    app-scale %, counters by channel in Wh (history/counters.py); unknown is absent/None."""

    gateway_id: str
    t: float
    counters: Mapping[str, float] = field(default_factory=dict)
    site_w: float | None = None
    solar_w: float | None = None
    battery_w: float | None = None
    home_w: float | None = None
    soe_pct: float | None = None
    grid_up: bool | None = None  # None: the gateway did not say
    temperatures_c: Mapping[str, float] = field(default_factory=dict)


def sample_of(state: GatewayState) -> Sample | None:
    """The state's newest reading, or None when there is none."""
    snapshot = state.snapshot
    if snapshot is None:
        return None
    readings = snapshot.readings
    power = readings.power_w
    grid = (readings.grid_status or "").upper()
    return Sample(
        gateway_id=state.gateway_id,
        t=snapshot.taken_at,
        counters=channel_values(readings.energy_wh),
        site_w=power.site if power else None,
        solar_w=power.solar if power else None,
        battery_w=power.battery if power else None,
        home_w=power.load if power else None,
        soe_pct=readings.soe_percent_app,
        grid_up=None if not grid else grid != "DOWN",
        temperatures_c={k: v for k, v in readings.temperatures_c.items() if v is not None},
    )
