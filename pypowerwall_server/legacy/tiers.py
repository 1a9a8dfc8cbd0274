"""The library calls the legacy routes need, by refresh tier (names as in library.json).

Everything else the routes read (level(), grid_status(...), strings(), alerts(), power(),
version(), the jsonformat strings, ...) is derived from these (see derivations.py), so each
gateway answer is fetched once per tier interval.

`tedapi.*` calls only make sense when a TEDAPI connection is attached
(GatewayAttributes.tedapi); the poller should skip them otherwise.
"""

from __future__ import annotations

# Every poll interval: meters, state of energy, grid status, vitals-derived data.
FAST_CALLS: tuple[str, ...] = (
    "poll('/api/meters/aggregates')",  # /aggregates, /csv, /json, /pw/power, /pw/site...
    "poll('/api/system_status/soe')",  # /soe, level(): /csv, /json, /pw/level
    "poll('/api/system_status/grid_status')",  # grid_status(...), the grid alert in alerts()
    # per-battery p_out/f_out/v_out, energy remaining: /freq, /pod, /json, battery_blocks()
    "poll('/api/system_status')",
    "vitals()",  # /vitals, /freq, /pod; strings(), temps(), alerts()
    "get_time_remaining()",  # /pod, /json (TEDAPI computes it from its own status)
    "poll('/api/solar_powerwall')",  # strings() and alerts() on firmware without vitals
    "tedapi.get_fan_speeds()",  # /fans, /fans/pw
)

# Every few minutes (and after a control write): rarely changing data.
SLOW_CALLS: tuple[str, ...] = (
    "poll('/api/status')",  # version(), din(), uptime(), is_connected(): /version, /pw/*
    "poll('/api/site_info/site_name')",  # site_name()
    "poll('/api/operation')",  # get_reserve(), get_mode(): /csv/v2, /json, /pod
    # /api/* passthrough routes (the proxy's ALLOWLIST)
    "poll('/api/meters/site')",
    "poll('/api/meters/solar')",
    "poll('/api/sitemaster')",
    "poll('/api/powerwalls')",
    "poll('/api/system/update/status')",
    "poll('/api/site_info')",
    "poll('/api/system_status/grid_faults')",
    "poll('/api/site_info/grid_codes')",
    "poll('/api/solars')",
    "poll('/api/solars/brands')",
    "poll('/api/customer')",
    "poll('/api/meters')",
    "poll('/api/installer')",
    "poll('/api/networks')",
    "poll('/api/system/networks')",
    "poll('/api/meters/readings')",
    "poll('/api/synchrometer/ct_voltage_references')",
    "poll('/api/auth/toggle/supported')",
    # /tedapi/* debug routes
    "tedapi.get_config()",
    "tedapi.get_status()",
    "tedapi.get_components()",
    "tedapi.get_battery_blocks()",
    "tedapi.get_device_controller()",
)
