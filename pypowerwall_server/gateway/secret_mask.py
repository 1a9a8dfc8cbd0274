"""Masking our passwords in the library's messages without mangling its own words.

A password can also be an ordinary word ("connect"): masking every occurrence turned
"Unable to connect to Powerwall" into "Unable to *** to Powerwall". An occurrence is left
as it is only when it and the text around it are one of pypowerwall's own sentences (its
source says them); anything else, a password the library printed, is masked.
"""

from __future__ import annotations

import functools
import importlib.util
from collections.abc import Sequence
from pathlib import Path

MASK = "***"
CONTEXT = 12  # characters of the message around it that must be the library's too
MIN_CONTEXT = 8  # on one side, at least this much


@functools.cache
def _library_text() -> str:
    """pypowerwall's source, read once: the only place its sentences come from."""
    spec = importlib.util.find_spec("pypowerwall")
    if spec is None or spec.origin is None:
        return ""
    folder = Path(spec.origin).parent
    return "\n".join(
        path.read_text("utf-8", "replace")
        for path in sorted(folder.rglob("*.py"))
        if "tests" not in path.parts
    )


def _in_a_library_sentence(text: str, start: int, end: int) -> bool:
    """The secret with the text before it, after it, or both, is in the library's source."""
    left, right = max(0, start - CONTEXT), min(len(text), end + CONTEXT)
    windows = [(left, right)] if right - end + start - left >= MIN_CONTEXT else []
    windows += [(left, end)] if start - left >= MIN_CONTEXT else []
    windows += [(start, right)] if right - end >= MIN_CONTEXT else []
    source = _library_text()
    return any(text[a:b] in source for a, b in windows)


def mask_secrets(text: str, secrets: Sequence[str]) -> str:
    """`text` with every occurrence of a secret masked, except inside the library's own
    sentences."""
    for secret in sorted(set(secrets), key=len, reverse=True):
        if not secret:
            continue
        parts, at = [], 0
        while (found := text.find(secret, at)) >= 0:
            end = found + len(secret)
            keep = _in_a_library_sentence(text, found, end)
            parts.append(text[at:found] + (secret if keep else MASK))
            at = end
        text = "".join(parts) + text[at:]
    return text
