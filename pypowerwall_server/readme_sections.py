"""Generated sections of the documentation: the text between a start and an end marker line,
replaced whole (settings/readme.py: the settings table in docs/configuration.md;
mqtt/readme.py: the Home Assistant entities in docs/mqtt.md). Tests compare each file with
what its generator gives, so it stays true."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path


def with_section(readme: str, start_marker: str, end_marker: str, section: str) -> str:
    """`readme` with its text from `start_marker` to `end_marker` replaced by `section`
    (which begins and ends with those markers)."""
    head, start, rest = readme.partition(start_marker)
    _, end, tail = rest.partition(end_marker)
    if not start or not end:
        raise ValueError(f"no {start_marker!r} ... {end_marker!r} section")
    return head + section + tail


def rewrite(argv: list[str], update: Callable[[str], str], default: Path) -> int:
    """`python -m ... [FILE]`: rewrite the file's generated section in place (`default`, a
    path from the repository's root, when no file is given)."""
    path = Path(argv[0]) if argv else default
    path.write_text(update(path.read_text(encoding="utf-8")), encoding="utf-8")
    return 0
