"""pypowerwall-server: poll Tesla Energy Gateways gently, serve their state from memory."""

__version__ = "0.1.0"
