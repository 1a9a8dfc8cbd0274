"""pypowerwall attributes the server reads or sets that are not its documented API (the
documented one: the Powerwall constructor and its get_*/set_* calls).

Where they are used: gateway/adapter.py (connection state, attributes, backoff reset, close)
and gateway/tedapi_economy.py (seeding the TEDAPI cache). The names are checked on live
objects, connected to the simulator, by tests/integration/test_pypowerwall_contract.py.
"""

from __future__ import annotations

# pypowerwall.Powerwall
POWERWALL_CLIENT = "client"  # the connected transport; None until connect() succeeds
POWERWALL_CONNECT = "connect"  # (re)connects after the adapter dropped `client`
# Read for GatewayAttributes; `tedapi` is the TEDAPI object or False.
POWERWALL_ATTRIBUTES = ("tedapi", "cloudmode", "fleetapi", "tedapi_mode", "tedapi_api_version")

# The transport in `client` (local, TEDAPI, cloud, FleetAPI)
CLIENT_CLOSE_SESSION = "close_session"  # logs out on close
CLIENT_TEDAPI = "tedapi"  # its TEDAPI object (TEDAPI and hybrid local modes)

# Backoff and cache state the adapter clears, on the Powerwall, its client and the client's
# TEDAPI object, so our poller owns backoff (gateway/adapter.py _reset_library_backoff).
COOLDOWN = "pwcooldown"  # a pause after a 429/503 (on the Powerwall, local client, TEDAPI)
CACHE = "pwcache"  # dict: cache key -> last answer

# pypowerwall.tedapi.TEDAPI
TEDAPI_PW3 = "pw3"
TEDAPI_CACHE_TIMES = "pwcachetime"  # dict: cache key -> time.time() of the answer
TEDAPI_CONFIG_EXPIRE = "pwconfigexpire"  # seconds config.json stays cached
# get_native_meters_aggregates() serves its cached copy while this time.time() is ahead.
TEDAPI_NATIVE_FAIL_UNTIL = "_native_fail_until"
# Cache keys: get_status() (basic query), get_device_controller() (its superset),
# get_native_meters_aggregates() (the local API's lifetime energy counters).
STATUS_KEY = "status"
CONTROLLER_KEY = "controller"
NATIVE_AGGREGATES_KEY = "native_meters_aggregates"
