"""The two JSON layouts of the legacy proxy, byte for byte (stdlib json, not orjson:
orjson writes other separators and float reprs).

* compact: `json.dumps(v)`: separators ", " and ": ", insertion order, ASCII escapes;
  the proxy's own bodies and the library's `poll(..., jsonformat=True)` strings.
* indent4: `json.dumps(v, indent=4, sort_keys=True)`: the library's jsonformat strings for
  vitals(), strings(), temps() and alerts().

Both return None when the value cannot be encoded (the library then returns None too).
"""

from __future__ import annotations

import json
from typing import Any


def dumps_compact(value: Any) -> str | None:
    try:
        return json.dumps(value)
    except (TypeError, ValueError):
        return None


def dumps_indent4(value: Any) -> str | None:
    try:
        return json.dumps(value, indent=4, sort_keys=True)
    except (TypeError, ValueError):
        return None
