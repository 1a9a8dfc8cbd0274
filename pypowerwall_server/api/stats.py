"""Where RequestStats was: it lives in request_stats.py now, below services.py and api/.
Kept only for imports not yet rewritten; the relayout script removes this module."""

from pypowerwall_server.request_stats import MAX_ROUTES as MAX_ROUTES
from pypowerwall_server.request_stats import RequestStats as RequestStats
from pypowerwall_server.request_stats import RouteCount as RouteCount
