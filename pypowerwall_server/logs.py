"""Logging for the process: one format, the library kept quiet, and configured secrets
scrubbed from every record as a last line of defence (docs/architecture.md, decision 9)."""

from __future__ import annotations

import logging

from pypowerwall_server.gateway.library_log import configure_library_logging
from pypowerwall_server.settings import Settings
from pypowerwall_server.untrusted import EscapedLog

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class SecretScrubber(logging.Filter):
    """Replaces each configured secret with *** in the final message of a record."""

    def __init__(self, secrets: tuple[str, ...]) -> None:
        super().__init__()
        self.secrets = tuple(s for s in secrets if s)

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secrets:
            message = record.getMessage()
            scrubbed = message
            for secret in self.secrets:
                scrubbed = scrubbed.replace(secret, "***")
            if scrubbed != message:
                record.msg, record.args = scrubbed, None
        return True


def configured_secrets(settings: Settings) -> tuple[str, ...]:
    gateway_secrets = (
        secret for gateway in settings.gateways for secret in (gateway.gw_pwd, gateway.password)
    )
    return tuple(
        secret.get_secret_value()
        for secret in (*gateway_secrets, settings.server.control_secret)
        if secret is not None
    )


def configure_logging(settings: Settings) -> None:
    level = logging.DEBUG if settings.server.debug else logging.INFO
    logging.basicConfig(level=level, format=FORMAT)
    scrubber = SecretScrubber(configured_secrets(settings))
    escaper = EscapedLog()  # after the scrubber: secrets are matched in the raw text
    for handler in logging.getLogger().handlers:
        handler.addFilter(scrubber)
        handler.addFilter(escaper)
    configure_library_logging(settings.server.debug)
