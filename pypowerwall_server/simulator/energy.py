"""The model's mutable energy bookkeeping (model.py integrates it; readings.py reads it)."""

from __future__ import annotations

from dataclasses import dataclass

from pypowerwall_server.simulator.state import PowerwallKind


@dataclass(slots=True)
class UnitEnergy:
    """Mutable energy bookkeeping of one battery unit."""

    kind: PowerwallKind
    part_number: str
    serial: str
    full_wh: float
    remaining_wh: float
    charged_wh: float
    discharged_wh: float


@dataclass(slots=True)
class Counters:
    """Lifetime meter energies in Wh (monotonic)."""

    site_imported: float
    site_exported: float
    load_imported: float
    solar_exported: float
