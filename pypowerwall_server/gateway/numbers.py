"""What counts as a number in the library's answers (shared by readings.py and capacity.py)."""

from __future__ import annotations

from typing import Any

from pypowerwall_server.legacy.derived import is_number


def number(value: Any) -> float | None:
    """A number as the library gave it (an int stays an int: the bytes we serve keep it)."""
    return value if is_number(value) else None


def positive(value: Any) -> float | None:
    """A lifetime counter or a capacity: 0 or less means the gateway does not know it yet."""
    found = number(value)
    return found if found is not None and found > 0 else None
