"""What the sun and the household would do at a simulated instant, before the battery and
the grid are considered: available solar power and house demand, both in W."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from pypowerwall_server.simulator.noise import channel_key, jitter, smooth, uniform


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def local_hour_and_day(t: float, timezone: str) -> tuple[float, int]:
    """Standard-time hour of day (0-24, fractional; daylight saving removed, so the sun
    keeps its schedule) and day of year in the site's timezone."""
    moment = datetime.fromtimestamp(t, _zone(timezone))
    dst = moment.dst()
    dst_hours = dst.total_seconds() / 3600.0 if dst else 0.0
    hour = moment.hour + moment.minute / 60.0 + moment.second / 3600.0 - dst_hours
    return hour % 24.0, moment.timetuple().tm_yday


def daylight_window(day_of_year: int) -> tuple[float, float]:
    """Sunrise and sunset (standard-time hours): ~9.5 h of daylight in winter, ~14.5 h in
    summer, centred on noon."""
    day_length = 12.0 + 2.5 * math.sin(2.0 * math.pi * (day_of_year - 80) / 365.0)
    return 12.0 - day_length / 2.0, 12.0 + day_length / 2.0


def clear_sky_fraction(hour: float, day_of_year: int) -> float:
    """0 at night, a bell from sunrise to sunset peaking at 1 around solar noon."""
    sunrise, sunset = daylight_window(day_of_year)
    if not sunrise < hour < sunset:
        return 0.0
    return float(math.sin(math.pi * (hour - sunrise) / (sunset - sunrise)) ** 1.5)


@dataclass(frozen=True, slots=True)
class SiteProfile:
    """Solar and load shapes of one site; noise is a pure function of (seed, t)."""

    seed: int
    timezone: str
    solar_peak_w: float
    base_load_w: float

    def solar_available_w(self, t: float) -> float:
        hour, day = local_hour_and_day(t, self.timezone)
        sky = clear_sky_fraction(hour, day)
        if sky <= 0.0:
            return 0.0
        return self.solar_peak_w * sky * self._cloud_factor(t)

    def _cloud_factor(self, t: float) -> float:
        day_cloudiness = uniform(channel_key(self.seed, "cloud-day"), math.floor(t / 86400.0))
        passing = smooth(channel_key(self.seed, "cloud-pass"), t, 420.0)
        shade = day_cloudiness * 0.6 * passing
        flicker = jitter(channel_key(self.seed, "cloud-flicker"), t, 40.0, 0.02)
        return max(0.05, 1.0 - shade + flicker)

    def load_demand_w(self, t: float) -> float:
        hour, _ = local_hour_and_day(t, self.timezone)
        daily = 1.0 + 0.5 * _bump(hour, 7.5, 1.2) + 0.9 * _bump(hour, 19.0, 2.2)
        wobble = 1.0 + jitter(channel_key(self.seed, "load-wobble"), t, 30.0, 0.06)
        return self.base_load_w * daily * wobble + self._appliance_w(t)

    def _appliance_w(self, t: float) -> float:
        """A big appliance (dryer, oven, EV charger) runs in some 15-minute slots."""
        slot = math.floor(t / 900.0)
        key = channel_key(self.seed, "appliance")
        if uniform(key, slot) < 0.82:
            return 0.0
        return 1200.0 + 2800.0 * uniform(key ^ 0x5A5A, slot)


def _bump(hour: float, centre: float, width: float) -> float:
    return math.exp(-(((hour - centre) / width) ** 2))
