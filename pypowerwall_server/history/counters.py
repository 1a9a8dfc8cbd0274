"""Energy from the gateway's lifetime counters, and the rule for counters that misbehave.

Each channel is one meter counter (Wh, monotonic by design):

    solar = solar.exported      home = load.imported
    grid_import = site.imported grid_export = site.exported
    battery_charge = battery.imported   battery_discharge = battery.exported

The rule (docs/history.md): the energy between two readings of a channel is the newer
value minus the older. When that difference is negative (gateway replaced, counter reset,
firmware glitch) or larger than MAX_AVERAGE_W over the time between them (a jump no home
could make), the pair is not trusted: it gives no energy, the bucket is marked estimated,
and the newer value becomes the base for the next difference. So energy is never negative
and never absurd; at worst one interval's energy is missing.
"""

from __future__ import annotations

from collections.abc import Mapping

from pypowerwall_server.models import MeterEnergy

CHANNELS: tuple[str, ...] = (
    "solar",
    "home",
    "grid_import",
    "grid_export",
    "battery_charge",
    "battery_discharge",
)
_SOURCES: dict[str, tuple[str, str]] = {
    "solar": ("solar", "exported_wh"),
    "home": ("load", "imported_wh"),
    "grid_import": ("site", "imported_wh"),
    "grid_export": ("site", "exported_wh"),
    "battery_charge": ("battery", "imported_wh"),
    "battery_discharge": ("battery", "exported_wh"),
}
# 250 kW on average: more than any home's service; a larger difference is a counter jump.
MAX_AVERAGE_W = 250_000.0
# A jump check with no slack would refuse a counter's rounding on very short intervals.
JUMP_SLACK_WH = 50.0


def channel_values(energy: Mapping[str, MeterEnergy]) -> dict[str, float]:
    """The channels this reading has a counter for (a missing one is simply absent)."""
    values: dict[str, float] = {}
    for channel, (meter, direction) in _SOURCES.items():
        counters = energy.get(meter)
        value = getattr(counters, direction) if counters is not None else None
        if value is not None:
            values[channel] = float(value)
    return values


def energy_between(older: float, newer: float, seconds: float) -> float | None:
    """Wh between two readings of one counter, or None when the pair is not trusted (see
    the module's rule)."""
    difference = newer - older
    if difference < 0 or difference > MAX_AVERAGE_W * max(seconds, 0.0) / 3600.0 + JUMP_SLACK_WH:
        return None
    return difference
