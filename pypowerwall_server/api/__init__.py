"""HTTP API: thin routers over the hub, and the fast path for hot GETs."""
