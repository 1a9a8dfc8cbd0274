"""Pure transforms from library call results to the legacy pypowerwall proxy's responses.

`render_legacy(path, calls, attributes, options)` answers one GET; `cache_key(path)` says
under which key that answer can be encoded once per Snapshot; FAST_CALLS and SLOW_CALLS are
the library calls the poller must make for these routes.  See routing.py for the route table.
"""

from pypowerwall_server.legacy.not_provided import HEADER as NOT_PROVIDED_HEADER
from pypowerwall_server.legacy.not_provided import why_not_provided
from pypowerwall_server.legacy.responses import LegacyResponse, Unavailable
from pypowerwall_server.legacy.routing import cache_key, render_legacy
from pypowerwall_server.legacy.tiers import FAST_CALLS, SLOW_CALLS

__all__ = [
    "FAST_CALLS",
    "NOT_PROVIDED_HEADER",
    "SLOW_CALLS",
    "LegacyResponse",
    "Unavailable",
    "cache_key",
    "render_legacy",
    "why_not_provided",
]
