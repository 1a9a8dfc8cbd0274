"""The settings table: every setting, collected from the Row on each model field.

From TABLE come the command-line flags (args), the PW_* variables and file keys (sources),
the "must be ..." messages (loader), the --check-config report (report), the --help epilog
(docs) and the table in docs/configuration.md (readme). Adding a setting is one annotated
field in models.py.
"""

from __future__ import annotations

import types
from dataclasses import dataclass
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, SecretStr
from pydantic_core import PydanticUndefined

from pypowerwall_server.settings.models import GatewayConfig, ServerConfig
from pypowerwall_server.settings.row import Level, Row

# Variables and flags that are not settings of a gateway or of the server: where settings come from
SOURCE_ENV = {"PW_GATEWAYS": "JSON array of gateway objects (several gateways)"}
CONFIG_ENV, CONFIG_FLAG, CONFIG_HELP = "PW_CONFIG", "--config", "YAML or JSON config file"


@dataclass(frozen=True)
class Setting:
    """One row of the table, with what the model adds: key, value type, default, secrecy."""

    key: str  # the model field and the file key
    row: Row
    value_type: Any  # the annotation without None, e.g. float or Literal["basic", "bearer"]
    default: Any  # None when the setting has no default (id, name)
    optional: bool  # None is a valid value (not set)

    @property
    def level(self) -> Level:
        return self.row.level

    @property
    def secret(self) -> bool:
        return self.value_type is SecretStr

    @property
    def switch(self) -> bool:
        """A yes/no setting: its flag takes no value."""
        return self.value_type is bool

    @property
    def file_keys(self) -> tuple[str, ...]:
        return (*self.row.file_aliases, self.key)

    @property
    def type_name(self) -> str:
        if self.secret:
            return "secret"
        if get_origin(self.value_type) is Literal:
            return " / ".join(str(choice) for choice in get_args(self.value_type))
        if isinstance(self.value_type, type) and issubclass(self.value_type, BaseModel):
            return "mapping"
        names = {bool: "yes/no", int: "integer", float: "number", str: "text"}
        return names.get(self.value_type, "list")

    def show(self, value: Any) -> str:
        """The value as --check-config and the docs print it; a secret only as ***."""
        if value is None or value == ():
            return f"({self.row.unset})"
        if self.secret:
            return "***"
        if isinstance(value, bool):
            return "yes" if value else "no"
        if isinstance(value, float):
            return f"{value:g} {self.row.unit}".rstrip()
        if isinstance(value, tuple):
            return ", ".join(str(item) for item in value)
        return str(value)


def _settings(model: type[BaseModel]) -> tuple[Setting, ...]:
    rows = []
    for key, info in model.model_fields.items():
        (row,) = [item for item in info.metadata if isinstance(item, Row)]
        value_type, optional = _without_none(info.annotation)
        default = None if info.default is PydanticUndefined else info.default
        rows.append(Setting(key, row, value_type, default, optional))
    return tuple(rows)


def _without_none(annotation: Any) -> tuple[Any, bool]:
    if get_origin(annotation) in (Union, types.UnionType):
        rest = [arg for arg in get_args(annotation) if arg is not type(None)]
        if len(rest) == 1:
            return rest[0], True
    return annotation, False


TABLE: tuple[Setting, ...] = (*_settings(GatewayConfig), *_settings(ServerConfig))


def at_level(level: Level) -> tuple[Setting, ...]:
    return tuple(setting for setting in TABLE if setting.level == level)


def gateway_keys() -> tuple[str, ...]:
    """Keys of one gateway object in a list (every gateway and gateway-default setting)."""
    return tuple(setting.key for setting in TABLE if setting.level != "server")
