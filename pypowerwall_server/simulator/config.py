"""Static description of one simulated site: hardware, credentials, starting conditions.

Every field has a default so `SiteConfig()` is a complete, plausible two-Powerwall site.
`SiteConfig.for_index(i)` builds the i-th of many distinct gateways for multi-gateway runs.
"""

from __future__ import annotations

import hashlib
import random
import string
from dataclasses import dataclass, field, replace

from pypowerwall_server.simulator.state import ExportRule, OperatingMode, PowerwallKind

PW2_PART_NUMBER = "3012170-05-B"
PW3_PART_NUMBER = "1707000-11-J"
EXPANSION_PART_NUMBER = "1807000-20-B"
PW2_MAX_POWER_W = 5000.0
PW3_MAX_POWER_W = 11500.0


@dataclass(frozen=True, slots=True)
class SolarInverterConfig:
    """One solar inverter (PVAC) with its strings, each string's share of the site's peak."""

    part_number: str = "1538100-00-F"
    serial: str = "C123456789JKL"
    string_letters: tuple[str, ...] = ("A", "B", "C", "D")
    string_weights: tuple[float, ...] = (0.3, 0.2, 0.25, 0.25)  # sum to 1 across the site
    disconnected_strings: tuple[str, ...] = ()


def _default_inverters() -> tuple[SolarInverterConfig, ...]:
    return (SolarInverterConfig(),)


@dataclass(frozen=True, slots=True)
class SiteConfig:
    gateway_id: str = "gw1"
    seed: int = 0
    powerwalls: int = 2
    powerwall_kind: PowerwallKind = "powerwall2"
    expansion_packs: int = 0
    unit_capacity_wh: float = 13500.0
    max_unit_power_w: float | None = None  # None = by kind (5000 PW2, 11500 PW3)
    solar_peak_w: float = 7000.0
    solar_inverters: tuple[SolarInverterConfig, ...] = field(default_factory=_default_inverters)
    base_load_w: float = 900.0
    time_acceleration: float = 1.0
    sim_start: float | None = None  # simulated epoch seconds at clock start; None = now
    initial_soe_raw_percent: float = 60.0
    operating_mode: OperatingMode = "self_consumption"
    backup_reserve_raw_percent: float = 24.0  # gateway scale: 20 % in the app
    grid_charging: bool = False
    export_rule: ExportRule = "battery_ok"
    firmware_version: str = "24.44.1 c58c2df3"
    # False: /api/system_status (local API) leaves out the energy fields, at the top and in
    # every battery block, as some gateways do; state of energy and power stay.
    system_status_capacity: bool = True
    customer_email: str = "me@example.com"
    customer_password: str = "password"
    gw_pwd: str = "ABCDEFGHIJ"  # QR-sticker gateway password: 10 uppercase letters
    site_name: str = "Tesla Energy Gateway"
    timezone: str = "America/Los_Angeles"
    gateway_part_number: str = "1232100-00-E"
    gateway_serial: str = "TG123456789ABC"
    powerwall_serial_prefix: str = "TG1234567890"  # unit i gets prefix + two digits

    @property
    def unit_max_power_w(self) -> float:
        if self.max_unit_power_w is not None:
            return self.max_unit_power_w
        return PW3_MAX_POWER_W if self.powerwall_kind == "powerwall3" else PW2_MAX_POWER_W

    @property
    def powerwall_part_number(self) -> str:
        return PW3_PART_NUMBER if self.powerwall_kind == "powerwall3" else PW2_PART_NUMBER

    @property
    def unit_count(self) -> int:
        """Battery units reported by the gateway: Powerwalls then expansion packs."""
        return self.powerwalls + self.expansion_packs

    @property
    def gateway_din(self) -> str:
        """A Powerwall 3 site's gateway is its leading Powerwall 3 (pypowerwall's v1r mode
        queries units whose DIN differs from the gateway's as followers)."""
        if self.powerwall_kind == "powerwall3" and self.powerwalls:
            return f"{self.powerwall_part_number}--{self.unit_serial(0)}"
        return f"{self.gateway_part_number}--{self.gateway_serial}"

    @property
    def derived_customer_password(self) -> str:
        """pypowerwall derives a local-API password from the gateway password's last 5
        characters when only gw_pwd is given."""
        return self.gw_pwd[-5:]

    @property
    def energy_site_id(self) -> int:
        """The Tesla cloud's id for this site (Fleet API `energy_site_id`): 13 digits,
        stable, derived from the gateway DIN so distinct gateways get distinct ids."""
        digest = hashlib.sha256(self.gateway_din.encode()).digest()
        return 1_000_000_000_000 + int.from_bytes(digest[:8], "big") % 9_000_000_000_000

    def unit_serial(self, index: int) -> str:
        return f"{self.powerwall_serial_prefix}{index:02d}"

    @classmethod
    def for_index(cls, i: int, seed: int = 0) -> SiteConfig:
        """The i-th of many distinct gateways: own id, passwords, serials, slightly
        different sizes, all derived deterministically from (i, seed)."""
        rng = random.Random(f"site-{seed}-{i}")
        base = cls()
        letters = "".join(rng.choice(string.ascii_uppercase) for _ in range(10))
        serial_digits = f"{rng.randrange(10**9):09d}"
        inverter = replace(base.solar_inverters[0], serial=f"C{serial_digits}{i % 1000:03d}")
        return replace(
            base,
            gateway_id=f"gw{i + 1}",
            seed=seed * 100_003 + i,
            powerwalls=1 + rng.randrange(3),
            solar_peak_w=round(rng.uniform(4000.0, 11000.0), -2),
            solar_inverters=(inverter,),
            base_load_w=round(rng.uniform(500.0, 1500.0), -1),
            initial_soe_raw_percent=round(rng.uniform(30.0, 90.0), 1),
            customer_password=f"pw{i + 1}-{letters[:4].lower()}",
            gw_pwd=letters,
            site_name=f"Simulated Site {i + 1}",
            gateway_serial=f"TG{serial_digits}{i % 1000:03d}",
            powerwall_serial_prefix=f"TG2{serial_digits}{i % 100:02d}",
        )
