"""Cross-origin browser requests never reach control: a page on another site could otherwise
send form POSTs (no CORS preflight) that write, or spend the token's failure budget.

Browsers say where a request comes from: `Sec-Fetch-Site` (every current browser) and
`Origin` (older ones, on every POST). Only same-origin requests and ones the user typed
(`none`) pass. Legacy clients (curl, evcc, the proxy's scripts) send neither and pass too.
"""

from __future__ import annotations

from starlette.datastructures import Headers

from pypowerwall_server.streams.origin import origin_allowed

CROSS_ORIGIN = "cross-origin control requests are refused; use this server's own pages"
_SAME_SITE_VALUES = frozenset({"same-origin", "none"})


def is_cross_origin(headers: Headers) -> bool:
    """True when a browser sent this request from a page of another origin."""
    site = headers.get("sec-fetch-site")
    if site is not None:
        return site.strip().lower() not in _SAME_SITE_VALUES
    # No Origin: not a browser (or an old one's same-origin GET). No extra origins: CORS
    # never opens control.
    return not origin_allowed(headers.get("origin"), headers.get("host"), ())
