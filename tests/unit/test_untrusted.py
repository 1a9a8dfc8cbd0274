"""Log injection: outside strings are escaped and capped before they are
logged or shown."""

from __future__ import annotations

import io
import logging

import pytest

from pypowerwall_server.untrusted import MAX_LOG_MESSAGE, EscapedLog, printable


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("plain text", "plain text"),
        ("a\r\nb", "a\\r\\nb"),
        ("nul\x00esc\x1b[2J", "nul\\x00esc\\x1b[2J"),
        ("rtl\u202eevil", "rtl\\u202eevil"),
        ("line\u2028sep", "line\\u2028sep"),
        ("ünïcödé ok", "ünïcödé ok"),
    ],
)
def test_log_injection_characters_are_escaped(raw: str, shown: str) -> None:
    assert printable(raw) == shown


def test_log_injection_length_is_capped() -> None:
    shown = printable("\x1b" * 10_000, limit=100)
    assert len(shown) <= 100 + len("… (10000 characters)")
    assert shown.endswith("… (10000 characters)") and shown.isprintable()


def test_log_injection_escaped_in_every_log_line() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(EscapedLog())
    logger = logging.getLogger("test.untrusted")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("client said %s", "hi\r\n2026-01-01 ERROR forged")
        logger.warning("%s", "y" * (MAX_LOG_MESSAGE * 2))
    finally:
        logger.removeHandler(handler)
    lines = stream.getvalue().splitlines()
    assert lines[0] == "client said hi\\r\\n2026-01-01 ERROR forged"
    assert len(lines) == 2 and len(lines[1]) < MAX_LOG_MESSAGE + 40
