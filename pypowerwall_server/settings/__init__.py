"""Configuration: one frozen Settings object, built once by load_settings() in cli.main().

Modules: fields (the table of every setting), models (typed, frozen results), rules (which
settings clash), sources (raw values from command line, environment, file), args (the command
line), loader (merge and validate), report (--check-config), advice (warnings), docs (--help),
readme (the table in docs/configuration.md).
"""

from pypowerwall_server.settings.loader import load_settings
from pypowerwall_server.settings.models import (
    ConfigError,
    GatewayConfig,
    GatewayMode,
    ServerConfig,
    Settings,
)

__all__ = [
    "ConfigError",
    "GatewayConfig",
    "GatewayMode",
    "ServerConfig",
    "Settings",
    "load_settings",
]
