"""Text from outside the server (a gateway's answer, a client's request) made safe to log or
show: control and other invisible characters escaped, length capped. A gateway that answers
garbage must not be able to forge log lines (CR, LF), drive a terminal (ESC) or hide text
(NUL, bidirectional overrides), and a client must not fill the log with one long header."""

from __future__ import annotations

import logging

MAX_SHOWN = 300  # characters of one outside string in a message, an answer or a log line
MAX_LOG_MESSAGE = 4000  # a whole log message (the last line of defence, see EscapedLog)


def printable(value: object, limit: int = MAX_SHOWN) -> str:
    """`value` as text with every non-printable character escaped (\\x1b, \\n, \\u202e),
    cut to `limit` characters with a note of the original length."""
    text = value if isinstance(value, str) else str(value)
    if len(text) <= limit and text.isprintable():
        return text
    pieces: list[str] = []
    size = 0
    for char in text:
        piece = char if char.isprintable() else char.encode("unicode_escape").decode("ascii")
        if size + len(piece) > limit:
            return "".join(pieces) + f"… ({len(text)} characters)"
        pieces.append(piece)
        size += len(piece)
    return "".join(pieces)


class EscapedLog(logging.Filter):
    """On a handler: the final message of every record is escaped and capped, whoever logged
    it (our modules, uvicorn, the gateway library). Tracebacks are added by the formatter
    after this and keep their lines."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        safe = printable(message, MAX_LOG_MESSAGE)
        if safe != message:
            record.msg, record.args = safe, None
        return True
