"""CallView: library call results by name, with the calls the poller does not make derived
from the ones it does (e.g. `level()` from `poll('/api/system_status/soe')`).

A name present in the calls mapping always wins over its derivation, so a caller (or a test
replaying the contract's library.json) can supply any call's value directly.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pypowerwall_server.legacy.jsonfmt import dumps_compact, dumps_indent4

Derivation = Callable[["CallView"], Any]

_POLL_JSON_SUFFIX = ", jsonformat=True)"
_JSON_SUFFIX = "(jsonformat=True)"


class CallView:
    """Read-only, memoized access to call results; a missing, underivable call is None."""

    __slots__ = ("_calls", "_derivations", "_memo")

    def __init__(self, calls: Mapping[str, Any], derivations: Mapping[str, Derivation]) -> None:
        self._calls = calls
        self._derivations = derivations
        self._memo: dict[str, Any] = {}

    def get(self, name: str) -> Any:
        if name in self._calls:
            return self._calls[name]
        if name not in self._memo:
            self._memo[name] = self._derive(name)
        return self._memo[name]

    def text(self, jsonformat_name: str) -> str | None:
        """A jsonformat=True call's string; None when there is none or it is JSON `null`
        (the library's string for a None payload)."""
        value = self.get(jsonformat_name)
        return value if isinstance(value, str) and value != "null" else None

    def _derive(self, name: str) -> Any:
        derivation = self._derivations.get(name)
        if derivation is not None:
            return derivation(self)
        if name.endswith(_POLL_JSON_SUFFIX):
            plain = self.get(name.removesuffix(_POLL_JSON_SUFFIX) + ")")
            return None if plain is None else dumps_compact(plain)
        if name.endswith(_JSON_SUFFIX):
            plain = self.get(name.removesuffix(_JSON_SUFFIX) + "()")
            return None if plain is None else dumps_indent4(plain)
        return None
