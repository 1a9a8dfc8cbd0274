"""pypowerwall-server: poll Tesla Energy Gateways gently, serve their state from memory."""

__version__ = "0.2.0"  # the one place: --version, /api/version, OpenAPI and the wheel read it
