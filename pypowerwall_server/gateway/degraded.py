"""Degraded data: an answer that came back but cannot be right for this site.

- The "solar only" state: the battery meter (and usually the grid meter) is missing from the
  meter aggregates of a site that has a battery. A site without a battery (solar only by
  design) never shows battery capacity, so the same answer there is not degraded.
- Vitals gone: a transport that gave vitals before gives none now (a firmware switch that
  removed them). Transports that never give vitals (cloud, FleetAPI) are not judged.

What the site has is learned from its answers (any transport): a battery is known once any
capacity source (gateway/capacity.py) knew its capacity, or its meter showed battery power.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pypowerwall_server.gateway.capacity import battery_energy
from pypowerwall_server.gateway.readings import (
    AGGREGATES_CALL,
    SITE_INFO_CALL,
    SYSTEM_STATUS_CALL,
    power_from_aggregates,
)
from pypowerwall_server.legacy.aggregates import instant_power
from pypowerwall_server.legacy.derived_vitals import VITALS


class DegradedData:
    """Remembers what one site has shown; not thread-safe (the gateway's worker uses it)."""

    def __init__(self) -> None:
        self._has_battery = False
        self._gave_vitals: set[str] = set()  # transports that answered vitals before

    def reason(self, transport: str, results: Mapping[str, Any]) -> str | None:
        """Why these results cannot be right for this site, or None when they can be."""
        self._learn(results)
        missing = _missing_meters(results.get(AGGREGATES_CALL))
        if self._has_battery and "battery" in missing:
            meters = " and ".join(missing)
            return f"{meters} meter missing on a site with a battery (the 'solar only' state)"
        if VITALS in results:
            if results[VITALS]:
                self._gave_vitals.add(transport)
            elif transport in self._gave_vitals:
                return "vitals gone (they were there before: a firmware change?)"
        return None

    def _learn(self, results: Mapping[str, Any]) -> None:
        if self._has_battery:
            return
        energy = battery_energy(results.get(SYSTEM_STATUS_CALL), results.get(SITE_INFO_CALL), None)
        power = power_from_aggregates(results.get(AGGREGATES_CALL))
        self._has_battery = energy.capacity_wh is not None or bool(power and power.battery)


def _missing_meters(aggregates: Any) -> list[str]:
    """The battery and grid ("site") meters without an instant power; none when the whole
    aggregate is missing (that is a failed poll, not degraded data)."""
    if not isinstance(aggregates, Mapping):
        return []
    meters = (("battery", "battery"), ("site", "grid"))
    return [label for meter, label in meters if instant_power(aggregates, meter) is None]
