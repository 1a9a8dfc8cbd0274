"""The typed, frozen configuration objects. Built once (see settings.load_settings), then passed in.

Secrets (gw_pwd, password) are SecretStr: repr/str show '**********', never the value.
"""

from __future__ import annotations

import os
import re
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationInfo,
    field_validator,
    model_validator,
)

from pypowerwall_server.settings_rules import gateway_problems

GatewayMode = Literal["tedapi", "local", "cloud", "fleetapi"]
TEDAPI_HOST = "192.168.91.1"  # the gateway's own Wi-Fi address, the only one TEDAPI basic auth uses
DEFAULT_DATA_DIR = "~/.local/state/pypowerwall-server"
DEFER_CHECKS = "defer_cross_checks"  # validation context key: the loader reports these itself

_ID = re.compile(r"^[a-z0-9_-]+$")
_HOSTNAME = re.compile(r"^[A-Za-z0-9._-]+$")
_ORIGIN = re.compile(r"^https?://[A-Za-z0-9.\-\[\]:]+$")


class ConfigError(Exception):
    """Invalid configuration. Each problem is one line: 'KEY (source): what is wrong'."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def _check_host(value: str) -> str:
    if "://" in value or "/" in value:
        raise ValueError("no scheme or path")
    name, port = value, ""
    if value.startswith("["):  # [IPv6]:port
        name, _, rest = value[1:].partition("]")
        port = rest.removeprefix(":")
    elif value.count(":") == 1:
        name, port = value.split(":")
    elif value.count(":") > 1:  # bare IPv6
        return value
    if not _HOSTNAME.match(name) or (port and not (port.isdigit() and 1 <= int(port) <= 65535)):
        raise ValueError("bad host")
    return value


def _check_timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        if available_timezones():  # without a tz database nothing can be checked
            raise ValueError("unknown time zone") from None
    return value


class GatewayConfig(BaseModel):
    """One gateway and how to reach it.

    Mode (see `mode`): fleetapi if `fleetapi`; cloud if `cloud_mode`; otherwise "tedapi" when
    only gw_pwd is set and "local" when password is set. With BOTH password and gw_pwd the mode
    is "local" (pypowerwall's hybrid): the local API answers, and pypowerwall attaches TEDAPI
    for vitals only when host is 192.168.91.1; on any other host TEDAPI is not attached and
    gw_pwd is unused (`uses_tedapi` tells which). A gw_pwd without host means host 192.168.91.1.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    name: str
    host: str | None = None
    gw_pwd: SecretStr | None = None
    password: SecretStr | None = None
    email: str | None = None
    authpath: str | None = None
    timezone: str = "America/Los_Angeles"
    siteid: int | None = None
    cloud_mode: bool = False
    fleetapi: bool = False
    poll_interval: float = Field(default=5.0, gt=0, allow_inf_nan=False)  # seconds
    timeout: float = Field(default=5.0, gt=0, allow_inf_nan=False)  # seconds, per gateway call

    @model_validator(mode="before")
    @classmethod
    def _fill_defaults(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = dict(data)
        if data.get("name") is None and isinstance(data.get("id"), str):
            data["name"] = data["id"]
        remote = data.get("cloud_mode") is True or data.get("fleetapi") is True
        if data.get("gw_pwd") and not data.get("password") and not data.get("host") and not remote:
            data["host"] = TEDAPI_HOST
        return data

    @field_validator("id")
    @classmethod
    def _check_id(cls, value: str) -> str:
        if not _ID.match(value):
            raise ValueError("bad id")
        return value

    @field_validator("name", "email", "authpath")
    @classmethod
    def _check_text(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("empty")
        return value

    @field_validator("host")
    @classmethod
    def _check_host(cls, value: str | None) -> str | None:
        return None if value is None else _check_host(value)

    @field_validator("gw_pwd", "password")
    @classmethod
    def _check_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value():
            raise ValueError("empty")
        return value

    @field_validator("timezone")
    @classmethod
    def _check_tz(cls, value: str) -> str:
        return _check_timezone(value)

    @model_validator(mode="after")
    def _check_combination(self, info: ValidationInfo) -> GatewayConfig:
        if info.context and info.context.get(DEFER_CHECKS):
            return self
        problems = gateway_problems(self, lambda field: field)
        if problems:
            raise ValueError("; ".join(message for _, message in problems))
        return self

    @property
    def mode(self) -> GatewayMode:
        if self.fleetapi:
            return "fleetapi"
        if self.cloud_mode:
            return "cloud"
        return "local" if self.password else "tedapi"

    @property
    def uses_tedapi(self) -> bool:
        """True when pypowerwall will talk TEDAPI to this gateway (alone or in hybrid)."""
        if self.mode == "tedapi":
            return True
        on_wifi = self.host in (TEDAPI_HOST, f"{TEDAPI_HOST}:443")
        return self.mode == "local" and self.gw_pwd is not None and on_wifi


class ServerConfig(BaseModel):
    """How the server listens and shapes answers."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    bind_address: str = "0.0.0.0"
    port: int = Field(default=8675, ge=1, le=65535)
    cors_origins: tuple[str, ...] = ()
    debug: bool = False
    neg_solar: bool = True  # False: negative solar power is added to load and reported as 0
    site_zero_threshold: float = Field(
        default=0.0, ge=0, allow_inf_nan=False
    )  # W; |site| <= it → 0
    # data older than stale_after_intervals x poll_interval counts as stale
    stale_after_intervals: float = Field(default=3.0, ge=1, allow_inf_nan=False)
    https: bool = False  # also serve the same app with TLS on https_port
    https_port: int = Field(default=8775, ge=1, le=65535)
    tls_cert: str | None = None  # PEM certificate (chain); None: a generated self-signed one
    tls_key: str | None = None  # PEM private key of tls_cert
    data_dir: str = DEFAULT_DATA_DIR  # what the server makes itself: the self-signed cert

    @field_validator("tls_cert", "tls_key")
    @classmethod
    def _check_readable(cls, value: str | None) -> str | None:
        if value is not None and not (os.path.isfile(value) and os.access(value, os.R_OK)):
            raise ValueError("not a readable file")
        return value

    @field_validator("data_dir")
    @classmethod
    def _check_folder(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("empty")
        return value

    @field_validator("bind_address")
    @classmethod
    def _check_bind(cls, value: str) -> str:
        if not value or any(char.isspace() for char in value) or "/" in value:
            raise ValueError("bad address")
        return value

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: Any) -> Any:
        if isinstance(value, str):  # PW_CORS_ORIGINS="https://a.example,https://b.example"
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("cors_origins")
    @classmethod
    def _check_origins(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for origin in value:
            if origin != "*" and not _ORIGIN.match(origin):
                raise ValueError("bad origin")
        return value


class Settings(BaseModel):
    """Everything the server needs, resolved from command line, environment and file."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    server: ServerConfig = ServerConfig()
    gateways: tuple[GatewayConfig, ...] = ()
    demo: bool = False

    @model_validator(mode="after")
    def _unique_ids(self) -> Settings:
        ids = [gateway.id for gateway in self.gateways]
        duplicates = sorted({gateway_id for gateway_id in ids if ids.count(gateway_id) > 1})
        if duplicates:
            raise ValueError(f"duplicate gateway id(s): {', '.join(duplicates)}")
        return self

    def gateway(self, gateway_id: str) -> GatewayConfig:
        """The gateway with this id (KeyError if none)."""
        for gateway in self.gateways:
            if gateway.id == gateway_id:
                return gateway
        raise KeyError(gateway_id)
