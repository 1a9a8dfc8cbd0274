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


def reserve_percent(value: Any) -> float | None:
    """The library's app-scale reserve, (raw - 5) / 0.95, without its float noise
    (60.00000000000001): the gateway keeps a tenth of a percent; whole values are ints,
    as the legacy proxy answered them."""
    found = number(value)
    if found is None:
        return None
    rounded = round(float(found), 1)
    return int(rounded) if rounded.is_integer() else rounded
