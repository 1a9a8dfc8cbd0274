"""Cross-origin browser requests never reach control: a page on another site could otherwise
send form POSTs (no CORS preflight) that write, or spend the token's failure budget.

Browsers say where a request comes from: `Sec-Fetch-Site` (every current browser) and
`Origin` (older ones, on every POST). Only same-origin requests and ones the user typed
(`none`) pass. Legacy clients (curl, evcc, the proxy's scripts) send neither and pass too.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.datastructures import Headers

CROSS_ORIGIN = "cross-origin control requests are refused; use this server's own pages"
_SAME_SITE_VALUES = frozenset({"same-origin", "none"})


def is_cross_origin(headers: Headers) -> bool:
    """True when a browser sent this request from a page of another origin."""
    site = headers.get("sec-fetch-site")
    if site is not None:
        return site.strip().lower() not in _SAME_SITE_VALUES
    origin = headers.get("origin")
    if origin is None:
        return False  # not a browser, or a same-origin GET of an old one
    try:
        netloc = urlsplit(origin.strip()).netloc
    except ValueError:
        return True
    host = headers.get("host", "")
    return not netloc or netloc.lower() != host.strip().lower()  # "null" has no netloc
