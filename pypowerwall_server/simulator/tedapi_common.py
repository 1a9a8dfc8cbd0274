"""Facts shared by the TEDAPI payload builders: which units the gateway can see, the
identifiers of parts the SiteState does not name (sync board, battery modules), nameplate
powers, the gateway clock, and the small JSON fragments every device block repeats."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pypowerwall_server.simulator.state import PowerwallKind, PowerwallState, SiteState

JsonDict = dict[str, Any]

SYNC_PART_NUMBER = "1493315-01-F"  # Backup Gateway 2 sync board
PW2_MODULE_PART_NUMBER = "1081100-10-U"  # battery module inside a Powerwall 2 package
APP_GIT_HASH = [170, 38, 157, 53, 42, 112, 176]  # 7 bytes, as esCan *_appGitHash arrays

# Nominal (nameplate) AC power per unit in W: what PINV_Pnom and config.json report.
NOMINAL_POWER_W: dict[PowerwallKind, float] = {
    "powerwall2": 5000.0,
    "powerwall_plus": 5800.0,
    "powerwall3": 11500.0,
    "expansion": 0.0,
}

# config.json battery_blocks[].type; pypowerwall looks for "Powerwall3" in it.
BLOCK_TYPE: dict[PowerwallKind, str] = {
    "powerwall2": "Powerwall2",
    "powerwall_plus": "SolarPowerwall",
    "powerwall3": "Powerwall3",
    "expansion": "BatteryExpansion",
}


def visible_units(site: SiteState) -> tuple[PowerwallState, ...]:
    """Units the gateway currently talks to: a missing Powerwall is gone from live data."""
    return tuple(pw for pw in site.powerwalls if pw.serial not in site.missing_powerwall_serials)


def inverter_units(units: tuple[PowerwallState, ...]) -> tuple[PowerwallState, ...]:
    """Powerwalls with a battery inverter (every kind but the DC expansion pack)."""
    return tuple(pw for pw in units if pw.kind != "expansion")


def escan_units(units: tuple[PowerwallState, ...]) -> tuple[PowerwallState, ...]:
    """Units reported on the esCan bus (THC/PINV/POD): Powerwall 2 and Powerwall+."""
    return tuple(pw for pw in units if pw.kind in ("powerwall2", "powerwall_plus"))


def pw3_units(site: SiteState) -> tuple[PowerwallState, ...]:
    """Every commissioned Powerwall 3, hidden or not (config.json still lists them)."""
    return tuple(pw for pw in site.powerwalls if pw.kind == "powerwall3")


def expansions(site: SiteState) -> tuple[PowerwallState, ...]:
    return tuple(pw for pw in site.powerwalls if pw.kind == "expansion")


def is_pw3_site(site: SiteState) -> bool:
    """A Powerwall 3 leads the site: it has no local web portal and answers TEDAPI."""
    return any(pw.kind == "powerwall3" for pw in site.powerwalls)


def module_serial(pw: PowerwallState) -> str:
    """Serial of the battery module inside a Powerwall 2 package (distinct from the
    package serial, as on real hardware; derived so it is stable and unique)."""
    return f"T{pw.serial[2:]}" if len(pw.serial) > 2 else f"T{pw.serial}"


def sync_serial(site: SiteState) -> str:
    return f"JBL{site.gateway_serial[-11:]}"


def gateway_time(site: SiteState) -> str:
    """The gateway clock at `sim_time` as ISO-8601 with the site's UTC offset."""
    try:
        zone: Any = ZoneInfo(site.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = UTC
    return datetime.fromtimestamp(site.sim_time, zone).isoformat(timespec="seconds")


def firmware_number(site: SiteState) -> str:
    """ "24.44.1" from "24.44.1 c58c2df3"."""
    return site.firmware_version.split(" ")[0]


def firmware_at_least(site: SiteState, version: tuple[int, ...]) -> bool:
    parts: list[int] = []
    for piece in firmware_number(site).split("."):
        digits = "".join(ch for ch in piece if ch.isdigit())
        parts.append(int(digits) if digits else 0)
    return tuple(parts) >= version


def alerts_block(active: list[str] | None = None) -> JsonDict:
    return {"isComplete": True, "isMIA": False, "active": active or []}


def grid_connected_alerts(site: SiteState) -> list[str]:
    """The site's active alerts, never claiming a grid connection while islanded."""
    alerts = list(site.alerts)
    if site.grid_status != "SystemGridConnected":
        alerts = [a for a in alerts if a != "SystemConnectedToGrid"]
    return alerts
