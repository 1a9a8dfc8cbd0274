"""One row of the settings table: how a setting is named in each source and described.

A row is attached to a field of GatewayConfig or ServerConfig (settings/models.py) as
`Annotated[type, Row(...)]`; the field's name is the file key, its type and default are the
model's. settings/table.py collects the rows into the table everything else is derived from.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

# server: the server section; gateway: one gateway (single-gateway PW_*/flag, or a list entry);
# gateway-default: a default for every gateway (PW_*/flag/`defaults:`), a list entry overrides it
Level = Literal["server", "gateway", "gateway-default"]


class OtherSettingRule(ValueError):
    """A valid value another setting makes wrong: its message is the problem shown, not
    "must be <expected>" (which the value already is)."""


@dataclass(frozen=True)
class Row:
    help: str  # one short phrase, for --help and docs/configuration.md
    expected: str  # what a valid value looks like, for "must be ..., got ..." messages
    level: Level = "gateway"
    env: tuple[str, ...] = ()  # PW_* variables; the first wins, the others are aliases
    flag: str | None = None  # command-line option
    file_aliases: tuple[str, ...] = ()  # further file keys for the same setting
    metavar: str = "X"
    unit: str = ""  # shown after numbers, e.g. "s" or "W"
    unset: str = "not set"  # what no value means, e.g. "current folder"
