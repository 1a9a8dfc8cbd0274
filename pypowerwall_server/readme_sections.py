"""Generated sections of README.md: the text between a start and an end marker line,
replaced whole (settings/readme.py: the settings table; mqtt/readme.py: the Home Assistant
entities). Tests compare the README with what its generator gives, so it stays true."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path


def with_section(readme: str, start_marker: str, end_marker: str, section: str) -> str:
    """`readme` with its text from `start_marker` to `end_marker` replaced by `section`
    (which begins and ends with those markers)."""
    head, start, rest = readme.partition(start_marker)
    _, end, tail = rest.partition(end_marker)
    if not start or not end:
        raise ValueError(f"README has no {start_marker!r} ... {end_marker!r} section")
    return head + section + tail


def rewrite(argv: list[str], update: Callable[[str], str]) -> int:
    """`python -m ... [README.md]`: rewrite the file's generated section in place."""
    path = Path(argv[0] if argv else "README.md")
    path.write_text(update(path.read_text(encoding="utf-8")), encoding="utf-8")
    return 0
