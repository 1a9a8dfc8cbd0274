"""The proxy's PW_NEG_SOLAR=no and PW_SITE_ZERO_THRESHOLD rules on instant powers (W).

* threshold N > 0: a site (grid) power with |value| <= N becomes int 0 (meter noise);
* neg_solar False: a negative solar power is moved into the load (load -= solar) and solar
  becomes int 0.
The default options (neg_solar True, threshold 0) change nothing.
"""

from __future__ import annotations

from typing import Any

from pypowerwall_server.legacy.derived import is_number
from pypowerwall_server.models import LegacyOptions


def zero_small_site(site: Any, options: LegacyOptions) -> Any:
    threshold = options.site_zero_threshold
    if threshold > 0 and is_number(site) and abs(site) <= threshold:
        return 0
    return site


def move_negative_solar(solar: Any, load: Any, options: LegacyOptions) -> tuple[Any, Any]:
    """(solar, load) after the neg-solar rule; a None/non-numeric load stays as it is."""
    if options.neg_solar or not is_number(solar) or solar >= 0:
        return solar, load
    return 0, (load - solar if is_number(load) else load)


def apply_to_aggregates(aggregates: dict[str, Any], options: LegacyOptions) -> None:
    """Apply both rules in place to parsed meter aggregates (a fresh copy)."""
    site = aggregates.get("site")
    if isinstance(site, dict) and site.get("instant_power") is not None:
        site["instant_power"] = zero_small_site(site["instant_power"], options)
    solar, load = aggregates.get("solar"), aggregates.get("load")
    if not isinstance(solar, dict) or solar.get("instant_power") is None:
        return
    load_power = load.get("instant_power") if isinstance(load, dict) else None
    new_solar, new_load = move_negative_solar(solar["instant_power"], load_power, options)
    solar["instant_power"] = new_solar
    if isinstance(load, dict) and load_power is not None:
        load["instant_power"] = new_load
