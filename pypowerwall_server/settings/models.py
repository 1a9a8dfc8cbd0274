"""The typed, frozen configuration objects. Built once by settings.loader, then passed in.

Secrets (gw_pwd, password) are SecretStr: repr/str show '**********', never the value.
"""

from __future__ import annotations

import ipaddress
import os
import re
from typing import Annotated, Any, Literal, get_args
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

from pypowerwall_server.settings.event_kinds import DEFAULT_NOTIFY, kinds_of
from pypowerwall_server.settings.row import OtherSettingRule, Row
from pypowerwall_server.settings.rules import gateway_problems
from pypowerwall_server.settings.tariff import Tariff

GatewayMode = Literal["tedapi", "local", "cloud", "fleetapi"]
# The ways to read a gateway (gateway/transports.py): v1r is TEDAPI over the wired LAN.
TransportName = Literal["tedapi", "v1r", "local", "cloud", "fleetapi"]
# The ones pypowerwall 0.22 can also write through (TEDAPI over Wi-Fi and local are read-only).
WriterName = Literal["v1r", "cloud", "fleetapi"]
WRITERS: tuple[WriterName, ...] = get_args(WriterName)
# The legacy proxy's PW_STYLE names for its power-flow page (Powerwall-Dashboard uses them).
PageStyle = Literal["clear", "black", "white", "grafana", "grafana-dark", "solar", "dakboard"]
TEDAPI_HOST = "192.168.91.1"  # the gateway's own Wi-Fi address, the only one TEDAPI basic auth uses
DEFAULT_DATA_DIR = "~/.local/state/pypowerwall-server"
DEFER_CHECKS = "defer_cross_checks"  # validation context key: the loader reports these itself

_ID = re.compile(r"^[a-z0-9_-]+\Z")
_HOSTNAME = re.compile(r"^[A-Za-z0-9._-]+\Z")
_MQTT_PREFIX = re.compile(r"^[A-Za-z0-9_-]+\Z")
_ORIGIN = re.compile(r"^https?://[A-Za-z0-9.\-\[\]:]+\Z")
_ROOT_PATH = re.compile(r"^(/[A-Za-z0-9._~-]+)+\Z")
MIN_POLL_INTERVAL_S = 0.01  # 1e-9 was accepted: a poll loop that never rests
MIN_CONTROL_SECRET_CHARS = 16  # guessing a random 16-character secret is hopeless
_LINE = re.compile(r"[\r\n\x00]").search
_OPEN_PATH = re.compile(r"/[A-Za-z0-9._~/-]*\Z")  # a plain path: no query, no spaces


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
    elif value.count(":") > 1:  # bare IPv6, and nothing else
        try:
            ipaddress.IPv6Address(value)
        except ValueError:
            raise ValueError("bad host") from None
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

    # The settings table's gateway rows (settings/row.py); declaration order is table order.
    id: Annotated[
        str, Row("gateway id in URLs", "lowercase letters, digits, '_' or '-' (e.g. 'cabin')")
    ]
    name: Annotated[str, Row("display name (default: the id)", "a non-empty string")]
    host: Annotated[
        str | None,
        Row(
            "gateway address, IP or host:port (192.168.91.1 when only gw_pwd is set)",
            "an IP address or host name, optionally with :port (e.g. 192.168.91.1)",
            env=("PW_HOST",),
            flag="--host",
            metavar="H",
        ),
    ] = None
    gw_pwd: Annotated[
        SecretStr | None,
        Row(
            "gateway (QR sticker) password for TEDAPI",
            "a non-empty string (quote it in YAML)",
            env=("PW_GW_PWD",),
            flag="--gw-pwd",
            metavar="P",
        ),
    ] = None
    password: Annotated[
        SecretStr | None,
        Row(
            "local customer password",
            "a non-empty string (quote it in YAML)",
            env=("PW_PASSWORD",),
            flag="--password",
            metavar="P",
        ),
    ] = None
    email: Annotated[
        str | None,
        Row(
            "Tesla account email; without host/gw_pwd/password it means cloud mode",
            "a non-empty string",
            env=("PW_EMAIL",),
            flag="--email",
            metavar="E",
        ),
    ] = None
    authpath: Annotated[
        str | None,
        Row(
            "folder of cloud/FleetAPI auth files",
            "a folder path",
            level="gateway-default",
            env=("PW_AUTHPATH", "PW_AUTH_PATH"),
            flag="--authpath",
            metavar="DIR",
            unset="current folder",
        ),
    ] = None
    timezone: Annotated[
        str,
        Row(
            "gateway time zone",
            "a time zone name such as America/Los_Angeles",
            level="gateway-default",
            env=("PW_TIMEZONE",),
            flag="--timezone",
            metavar="TZ",
        ),
    ] = "America/Los_Angeles"
    siteid: Annotated[
        int | None,
        Row(
            "Tesla energy site id (cloud/FleetAPI, several sites)",
            "an integer",
            env=("PW_SITEID",),
            flag="--siteid",
            metavar="N",
            unset="first site",
        ),
    ] = None
    cloud_mode: Annotated[
        bool, Row("use the Tesla cloud", "yes or no", env=("PW_CLOUD_MODE",), flag="--cloud")
    ] = False
    fleetapi: Annotated[
        bool, Row("use the Tesla FleetAPI", "yes or no", env=("PW_FLEETAPI",), flag="--fleetapi")
    ] = False
    poll_interval: Annotated[
        float,
        Row(
            "poll interval",
            f"a number of seconds, at least {MIN_POLL_INTERVAL_S:g}",
            level="gateway-default",
            env=("PW_CACHE_EXPIRE",),
            flag="--cache-expire",
            metavar="S",
            unit="s",
        ),
    ] = Field(default=5.0, ge=MIN_POLL_INTERVAL_S, allow_inf_nan=False)
    timeout: Annotated[
        float,
        Row(
            "timeout of one gateway call",
            "a number of seconds greater than 0",
            level="gateway-default",
            env=("PW_TIMEOUT",),
            flag="--timeout",
            metavar="S",
            unit="s",
        ),
    ] = Field(default=5.0, gt=0, allow_inf_nan=False)
    tedapi_api_version: Annotated[
        Literal["V2024_06", "V2026_06"],
        Row(
            "TEDAPI query set (V2026_06: the Tesla-signed queries of newer firmware)",
            "V2024_06 or V2026_06",
            level="gateway-default",
            env=("PW_TEDAPI_API_VERSION",),
            flag="--tedapi-api-version",
            metavar="V",
        ),
    ] = "V2024_06"
    tedapi_auth_mode: Annotated[
        Literal["basic", "bearer"],
        Row(
            "TEDAPI login: basic (Wi-Fi 192.168.91.1) or bearer (also wired LAN; solar-only "
            "gateways, not Powerwall 2/3)",
            "basic or bearer",
            level="gateway-default",
            env=("PW_TEDAPI_AUTH_MODE",),
            flag="--tedapi-auth-mode",
            metavar="M",
        ),
    ] = "basic"
    rsa_key_path: Annotated[
        str | None,
        Row(
            "RSA private key (PEM) registered for v1r: TEDAPI over the wired LAN",
            "the path of an existing, readable file (the v1r RSA private key PEM)",
            env=("PW_RSA_KEY_PATH",),
            flag="--rsa-key-path",
            metavar="FILE",
        ),
    ] = None
    wifi_host: Annotated[
        str | None,
        Row(
            "v1r: the gateway's Wi-Fi TEDAPI address, for follower Powerwalls (the leader "
            "stays on the wired LAN: failover is off)",
            "an IP address or host name, optionally with :port (e.g. 192.168.91.1)",
            env=("PW_WIFI_HOST",),
            flag="--wifi-host",
            metavar="H",
        ),
    ] = None

    transports: Annotated[
        tuple[TransportName, ...],
        Row(
            "ordered ways to read this gateway, the first preferred, e.g. tedapi,fleetapi "
            "(tedapi, v1r, local, cloud, fleetapi)",
            "a comma-separated list of tedapi, v1r, local, cloud, fleetapi, each at most once",
            env=("PW_TRANSPORTS",),
            flag="--transports",
            metavar="LIST",
            unset="the one mode the credentials give",
        ),
    ] = ()
    failover_after: Annotated[
        int,
        Row(
            "failed or degraded polls in a row before the next transport takes over (sooner "
            "when waiting would let the data turn stale)",
            "an integer from 1 to 100",
            level="gateway-default",
            env=("PW_FAILOVER_AFTER",),
            metavar="N",
        ),
    ] = Field(default=3, ge=1, le=100)
    recovery_probe: Annotated[
        float,
        Row(
            "first wait before a failed preferred transport is tried again (doubling up to 30 min)",
            "a number of seconds greater than 0",
            level="gateway-default",
            env=("PW_RECOVERY_PROBE",),
            metavar="S",
            unit="s",
        ),
    ] = Field(default=60.0, gt=0, allow_inf_nan=False)
    remote_interval: Annotated[
        float,
        Row(
            "poll interval of a cloud or FleetAPI transport listed after another "
            "(Tesla limits and bills cloud requests)",
            "a number of seconds greater than 0",
            level="gateway-default",
            env=("PW_REMOTE_INTERVAL",),
            metavar="S",
            unit="s",
        ),
    ] = Field(default=60.0, gt=0, allow_inf_nan=False)
    control_transport: Annotated[
        WriterName | None,
        Row(
            "how control writes to this gateway: fleetapi (authpath with .pypowerwall.fleetapi, "
            "siteid), cloud (email, authpath with .pypowerwall.auth, siteid) or v1r (a transport "
            "that reads it); for a gateway read over TEDAPI or the local API",
            "v1r, cloud or fleetapi (tedapi and local are read-only)",
            env=("PW_CONTROL_TRANSPORT",),
            flag="--control-transport",
            metavar="T",
            unset="the first of v1r, cloud, fleetapi it is read through; else read-only",
        ),
    ] = None

    @model_validator(mode="before")
    @classmethod
    def _fill_defaults(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = dict(data)
        if data.get("name") is None and isinstance(data.get("id"), str):
            data["name"] = data["id"]
        remote = data.get("cloud_mode") is True or data.get("fleetapi") is True
        listed = data.get("transports")
        if isinstance(listed, str):  # PW_TRANSPORTS=tedapi,fleetapi
            data["transports"] = listed = [p.strip() for p in listed.split(",") if p.strip()]
        if listed:  # each transport finds its own address (gateway/transports.py)
            remote = True
        if data.get("gw_pwd") and not data.get("password") and not data.get("host") and not remote:
            data["host"] = TEDAPI_HOST
        return data

    @field_validator("transports")
    @classmethod
    def _check_transports(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(value)) != len(value):
            raise ValueError("a transport is listed twice")
        return value

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

    @field_validator("host", "wifi_host")
    @classmethod
    def _check_host(cls, value: str | None) -> str | None:
        return None if value is None else _check_host(value)

    @field_validator("rsa_key_path")
    @classmethod
    def _check_key_file(cls, value: str | None) -> str | None:
        if value is not None and not (os.path.isfile(value) and os.access(value, os.R_OK)):
            raise ValueError("not a readable file")
        return value

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
        if self.transports:  # the preferred transport's mode
            first = self.transports[0]
            return "local" if first == "v1r" else first
        if self.fleetapi:
            return "fleetapi"
        if self.cloud_mode:
            return "cloud"
        return "local" if self.password else "tedapi"

    @property
    def read_transports(self) -> tuple[TransportName, ...]:
        """The configured order, or the one transport a single-mode configuration gives."""
        if self.transports:
            return self.transports
        if self.rsa_key_path is not None and self.mode in ("local", "tedapi"):
            return ("v1r",)
        return (self.mode,)

    @property
    def write_transport(self) -> WriterName | None:
        """Where control writes go: control_transport, else the first transport it is read
        through that can write (v1r, cloud, FleetAPI); None when read-only."""
        if self.control_transport is not None:
            return self.control_transport
        writers = [name for name in self.read_transports if name in WRITERS]
        return writers[0] if writers else None

    @property
    def uses_tedapi(self) -> bool:
        """True when pypowerwall will talk TEDAPI to this gateway (alone or in hybrid)."""
        if self.mode == "tedapi":
            return True
        if self.mode == "local" and self.rsa_key_path is not None:
            return True  # v1r: TEDAPI over the wired LAN, signed with the RSA key
        on_wifi = self.host in (TEDAPI_HOST, f"{TEDAPI_HOST}:443")
        return self.mode == "local" and self.gw_pwd is not None and on_wifi


class ServerConfig(BaseModel):
    """How the server listens and shapes answers."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # The settings table's server rows (settings/row.py); declaration order is table order.
    bind_address: Annotated[
        str,
        Row(
            "listen address",
            "an IP address or host name",
            level="server",
            env=("PW_BIND_ADDRESS",),
            flag="--bind-address",
            file_aliases=("host",),
            metavar="A",
        ),
    ] = "0.0.0.0"
    port: Annotated[
        int,
        Row(
            "listen port",
            "an integer from 1 to 65535",
            level="server",
            env=("PW_PORT",),
            flag="--port",
            metavar="N",
        ),
    ] = Field(default=8675, ge=1, le=65535)
    cors_origins: Annotated[
        tuple[str, ...],
        Row(
            "comma-separated allowed origins",
            "a list of origins like https://example.com, or *",
            level="server",
            env=("PW_CORS_ORIGINS",),
            unset="same origin only",
        ),
    ] = ()
    debug: Annotated[
        bool, Row("debug logging", "yes or no", level="server", env=("PW_DEBUG",), flag="--debug")
    ] = False
    neg_solar: Annotated[
        bool,
        Row(
            "keep negative solar power; no moves it into load and reports solar 0",
            "yes or no",
            level="server",
            env=("PW_NEG_SOLAR",),
        ),
    ] = True
    site_zero_threshold: Annotated[
        float,
        Row(
            "site power within +/- this many W is reported as 0",
            "a number of watts, 0 or more",
            level="server",
            env=("PW_SITE_ZERO_THRESHOLD",),
            unit="W",
        ),
    ] = Field(default=0.0, ge=0, allow_inf_nan=False)
    stale_after_intervals: Annotated[
        float,
        Row(
            "data older than this many poll intervals is stale",
            "a number, 1 or more",
            level="server",
            env=("PW_STALE_AFTER_INTERVALS",),
        ),
    ] = Field(default=3.0, ge=1, allow_inf_nan=False)
    allowed_hosts: Annotated[
        tuple[str, ...],
        Row(
            "comma-separated further host names clients may reach this server by (Host "
            "header; others get 400, against DNS rebinding); * allows any",
            "a list of host names, or *",
            level="server",
            env=("PW_ALLOWED_HOSTS",),
            unset="localhost, bind address, machine names, IPs, one-label and .local names",
        ),
    ] = ()
    max_connections: Annotated[
        int,
        Row(
            "open connections (HTTP and WebSocket) at most; more get 503",
            "an integer, 1 or more",
            level="server",
            env=("PW_MAX_CONNECTIONS",),
            metavar="N",
        ),
    ] = Field(default=10_000, ge=1)
    style: Annotated[
        PageStyle | None,
        Row(
            "default look of the web pages (the legacy proxy's names; ?style= overrides)",
            "one of " + ", ".join(get_args(PageStyle)),
            level="server",
            env=("PW_STYLE",),
            unset="the system's light or dark theme",
        ),
    ] = None
    frame_ancestors: Annotated[
        tuple[str, ...],
        Row(
            "comma-separated origins allowed to embed the web pages in a frame",
            "a list of origins like https://grafana.example:3000",
            level="server",
            env=("PW_FRAME_ANCESTORS",),
            unset="this server only",
        ),
    ] = ()
    root_path: Annotated[
        str | None,
        Row(
            "path prefix a reverse proxy forwards without stripping, e.g. /powerwall",
            "a path like /powerwall (no trailing slash)",
            level="server",
            env=("PW_ROOT_PATH",),
            unset="none",
        ),
    ] = None
    https: Annotated[
        bool,
        Row(
            "also serve HTTPS on the HTTPS port beside plain HTTP",
            "yes or no",
            level="server",
            env=("PW_HTTPS",),
            flag="--https",
        ),
    ] = False
    https_port: Annotated[
        int,
        Row(
            "HTTPS listen port",
            "an integer from 1 to 65535",
            level="server",
            env=("PW_HTTPS_PORT",),
            flag="--https-port",
            metavar="N",
        ),
    ] = Field(default=8775, ge=1, le=65535)
    tls_cert: Annotated[
        str | None,
        Row(
            "PEM certificate (chain) for HTTPS",
            "a readable PEM certificate file",
            level="server",
            env=("PW_TLS_CERT",),
            flag="--tls-cert",
            metavar="FILE",
            unset="self-signed, generated once into the data folder",
        ),
    ] = None
    tls_key: Annotated[
        str | None,
        Row(
            "PEM private key of the HTTPS certificate",
            "a readable PEM private key file",
            level="server",
            env=("PW_TLS_KEY",),
            flag="--tls-key",
            metavar="FILE",
            unset="self-signed, generated once into the data folder",
        ),
    ] = None
    data_dir: Annotated[
        str,
        Row(
            "folder for files the server makes itself (history file, self-signed certificate)",
            "a folder path",
            level="server",
            env=("PW_DATA_DIR",),
            flag="--data-dir",
            metavar="DIR",
        ),
    ] = DEFAULT_DATA_DIR
    personal_data: Annotated[
        bool,
        Row(
            "serve /api/installer and /api/networks (installer contact, network names) to anyone",
            "yes or no",
            level="server",
            env=("PW_PERSONAL_DATA",),
        ),
    ] = False

    control_secret: Annotated[
        SecretStr | None,
        Row(
            "token that enables the control routes (writes); send it as Authorization: Bearer",
            f"at least {MIN_CONTROL_SECRET_CHARS} characters on one line "
            "(e.g. from: openssl rand -hex 16)",
            level="server",
            env=("PW_CONTROL_SECRET", "PW_CONTROL_TOKEN"),
            file_aliases=("control_token",),
            unset="control off: writes answer 403",
        ),
    ] = None
    control_enabled: Annotated[
        bool | None,
        Row(
            "control on/off; on needs control_secret, off keeps the secret but refuses writes",
            "yes or no",
            level="server",
            env=("PW_CONTROL_ENABLED",),
            unset="on exactly when control_secret is set",
        ),
    ] = None

    @field_validator("tls_cert", "tls_key", "mqtt_ca_file")
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

    # MQTT (mqtt/): off unless mqtt_host is set; in a file also as a `mqtt:` section
    mqtt_host: Annotated[
        str | None,
        Row(
            "MQTT broker address; publishing (and Home Assistant discovery) is off without it",
            "an IP address or host name",
            level="server",
            env=("PW_MQTT_HOST",),
            metavar="H",
            unset="MQTT off",
        ),
    ] = None
    mqtt_port: Annotated[
        int,
        Row(
            "MQTT broker port", "an integer from 1 to 65535", level="server", env=("PW_MQTT_PORT",)
        ),
    ] = Field(default=1883, ge=1, le=65535)
    mqtt_username: Annotated[
        str | None,
        Row("MQTT user name", "a non-empty string", level="server", env=("PW_MQTT_USERNAME",)),
    ] = None
    mqtt_password: Annotated[
        SecretStr | None,
        Row(
            "MQTT password",
            "a non-empty string (quote it in YAML)",
            level="server",
            env=("PW_MQTT_PASSWORD",),
        ),
    ] = None
    mqtt_tls: Annotated[
        bool,
        Row("connect to the broker over TLS", "yes or no", level="server", env=("PW_MQTT_TLS",)),
    ] = False
    mqtt_ca_file: Annotated[
        str | None,
        Row(
            "CA certificate file for the broker's TLS (default: the system's)",
            "a readable file",
            level="server",
            env=("PW_MQTT_CA_FILE",),
            unset="system CAs",
        ),
    ] = None
    mqtt_prefix: Annotated[
        str,
        Row(
            "MQTT topic prefix (two servers on one broker need different ones)",
            "letters, digits, '_' or '-'",
            level="server",
            env=("PW_MQTT_PREFIX",),
        ),
    ] = "pypowerwall"
    mqtt_discovery_prefix: Annotated[
        str,
        Row(
            "Home Assistant discovery prefix",
            "an MQTT topic without wildcards",
            level="server",
            env=("PW_MQTT_DISCOVERY_PREFIX",),
        ),
    ] = "homeassistant"
    mqtt_control: Annotated[
        bool,
        Row(
            "offer the control entities over MQTT (needs control on; anyone who may publish "
            "to the command topics controls the Powerwall: restrict them on the broker)",
            "yes or no",
            level="server",
            env=("PW_MQTT_CONTROL",),
        ),
    ] = False
    mqtt_min_interval: Annotated[
        float,
        Row(
            "least time between two MQTT states of one device (0: every poll)",
            "a number of seconds, 0 or more",
            level="server",
            env=("PW_MQTT_MIN_INTERVAL",),
            unit="s",
        ),
    ] = Field(default=0.0, ge=0, allow_inf_nan=False)
    # --- MCP endpoint (assistants): /mcp ---
    mcp: Annotated[
        bool,
        Row(
            "serve the MCP endpoint /mcp for assistants (Streamable HTTP): read tools, and "
            "control tools when control is on (Bearer token, as the control routes)",
            "yes or no",
            level="server",
            env=("PW_MCP",),
        ),
    ] = False

    # History (history/, docs/history.md): the embedded store of energy, power and outages
    history: Annotated[
        bool,
        Row(
            "keep history (energy per hour, power per minute, outages) in the data folder",
            "yes or no",
            level="server",
            env=("PW_HISTORY",),
        ),
    ] = True
    history_days: Annotated[
        int,
        Row(
            "days of 1-minute power kept (hourly power and energy are kept for ever)",
            "an integer from 1 to 36500",
            level="server",
            env=("PW_HISTORY_DAYS",),
            flag="--history-days",
            metavar="N",
            unit="days",
        ),
    ] = Field(default=400, ge=1, le=36500)
    history_tariff: Annotated[
        Tariff | None,
        Row(
            "electricity prices for the cost of each history bucket (file only, see "
            "docs/history.md)",
            "a mapping with import_price, export_credit and periods",
            level="server",
            unset="no cost",
        ),
    ] = None

    # Events and notifications (events/, docs/notifications.md)
    notify_urls: Annotated[
        SecretStr | None,
        Row(
            "Apprise URLs that get notifications (ntfy://, pover://, mailtos://, json://...), "
            "separated by spaces or commas",
            "one or more Apprise URLs",
            level="server",
            env=("PW_NOTIFY_URLS",),
            unset="no notifications",
        ),
    ] = None
    notify_events: Annotated[
        tuple[str, ...],
        Row(
            "which events are notified: groups (outages, offline, auth, soe_low, alerts, "
            "control_failures, battery, firmware, transport, control, all) or event kinds",
            "a comma-separated list of event groups or kinds",
            level="server",
            env=("PW_NOTIFY_EVENTS",),
        ),
    ] = DEFAULT_NOTIFY
    notify_soe_low: Annotated[
        float,
        Row(
            "battery level (app scale) below which soe_low is raised",
            "a number from 0 to 100",
            level="server",
            env=("PW_NOTIFY_SOE_LOW",),
            unit="%",
        ),
    ] = Field(default=20.0, ge=0, le=100, allow_inf_nan=False)
    notify_hold_down: Annotated[
        float,
        Row(
            "how long a condition must stay gone before it is announced as over (flapping "
            "gives one event)",
            "a number of seconds, 0 or more",
            level="server",
            env=("PW_NOTIFY_HOLD_DOWN",),
            unit="s",
        ),
    ] = Field(default=60.0, ge=0, allow_inf_nan=False)

    @field_validator("notify_urls", mode="before")
    @classmethod
    def _join_urls(cls, value: Any) -> Any:
        if isinstance(value, (list, tuple)):  # a YAML list of URLs
            return " ".join(str(item) for item in value)
        return value

    @field_validator("notify_urls")
    @classmethod
    def _check_notify_urls(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().strip():
            raise ValueError("empty")
        return value

    @field_validator("notify_events", mode="before")
    @classmethod
    def _split_events(cls, value: Any) -> Any:
        items = [value] if isinstance(value, str) else value
        if isinstance(items, (list, tuple)) and all(isinstance(i, str) for i in items):
            return tuple(p.strip() for item in items for p in item.split(",") if p.strip())
        return value

    @field_validator("notify_events")
    @classmethod
    def _check_notify_events(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        kinds_of(value)  # ValueError names the unknown one
        return value

    @field_validator("control_secret")
    @classmethod
    def _check_control_secret(cls, value: SecretStr | None) -> SecretStr | None:
        """A short secret can be guessed; a line break cannot be sent in a header."""
        return _strong_secret(value)

    @field_validator("control_enabled")
    @classmethod
    def _check_control_enabled(cls, value: bool | None, info: ValidationInfo) -> bool | None:
        if value and info.data.get("control_secret") is None:  # declared before: validated
            raise OtherSettingRule("on needs control_secret (PW_CONTROL_SECRET) set too")
        return value

    @property
    def control_on(self) -> bool:
        """Writes are accepted (with the secret) only when a secret is set and not switched off."""
        return self.control_secret is not None and self.control_enabled is not False

    @field_validator("bind_address")
    @classmethod
    def _check_bind(cls, value: str) -> str:
        if not value or any(char.isspace() for char in value) or "/" in value:
            raise ValueError("bad address")
        return value

    @field_validator("mqtt_host")
    @classmethod
    def _check_mqtt_host(cls, value: str | None) -> str | None:
        if value is not None and not _HOSTNAME.match(value):
            raise ValueError("bad host")
        return value

    @field_validator("mqtt_username")
    @classmethod
    def _check_mqtt_username(cls, value: str | None) -> str | None:
        if value is not None and not value:
            raise ValueError("empty")
        return value

    @field_validator("mqtt_password")
    @classmethod
    def _check_mqtt_password(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value():
            raise ValueError("empty")
        return value

    @field_validator("mqtt_prefix")
    @classmethod
    def _check_mqtt_prefix(cls, value: str) -> str:
        if not _MQTT_PREFIX.match(value):
            raise ValueError("bad prefix")
        return value

    @field_validator("mqtt_discovery_prefix")
    @classmethod
    def _check_discovery_prefix(cls, value: str) -> str:
        if not value or any(c in value for c in "+#\0") or value.startswith("/"):
            raise ValueError("bad topic")
        return value

    # Security (docs/security.md): whose forwarded headers are believed
    trusted_proxies: Annotated[
        tuple[str, ...],
        Row(
            "comma-separated addresses or networks of reverse proxies whose X-Forwarded-For "
            "and X-Forwarded-Proto are believed (the client address for lockouts and audit)",
            "a list of IP addresses or networks like 127.0.0.1 or 10.0.0.0/24",
            level="server",
            env=("PW_TRUSTED_PROXIES",),
            unset="none: forwarded headers are ignored",
        ),
    ] = ()

    @field_validator("trusted_proxies", "read_open", mode="before")
    @classmethod
    def _split_security_lists(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _check_proxies(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for item in value:
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError("bad address") from None
        return value

    # Security (docs/security.md): optional token on reads, per-client rate limit
    read_token: Annotated[
        SecretStr | None,
        Row(
            "token every read needs (Authorization: Bearer, or the cookie of the /login page) "
            "except /health and read_open",
            f"at least {MIN_CONTROL_SECRET_CHARS} characters on one line "
            "(e.g. from: openssl rand -hex 16)",
            level="server",
            env=("PW_READ_TOKEN",),
            unset="reads open to anyone who reaches the port",
        ),
    ] = None
    read_open: Annotated[
        tuple[str, ...],
        Row(
            "comma-separated paths served without read_token (e.g. /aggregates,/soe for "
            "Telegraf on the LAN)",
            "a list of paths like /aggregates",
            level="server",
            env=("PW_READ_OPEN",),
            unset="none: only /health",
        ),
    ] = ()
    rate_limit: Annotated[
        float | None,
        Row(
            "requests per second each client address may make (bursts of 2 s, at least 20); "
            "beyond: 429 with Retry-After",
            "a number of requests per second, more than 0",
            level="server",
            env=("PW_RATE_LIMIT",),
            unit="requests/s",
            unset="no limit",
        ),
    ] = Field(default=None, gt=0, le=1_000_000, allow_inf_nan=False)

    @field_validator("read_token")
    @classmethod
    def _check_read_token(cls, value: SecretStr | None) -> SecretStr | None:
        """As the control secret: long enough that guessing is hopeless, one header line."""
        return _strong_secret(value)

    @field_validator("read_open")
    @classmethod
    def _check_open_paths(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not all(_OPEN_PATH.match(path) for path in value):
            raise ValueError("bad path")
        return value

    # End of security

    @field_validator("cors_origins", "allowed_hosts", "frame_ancestors", mode="before")
    @classmethod
    def _split_list(cls, value: Any) -> Any:
        if isinstance(value, str):  # PW_CORS_ORIGINS="https://a.example,https://b.example"
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("cors_origins")
    @classmethod
    def _check_origins(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return _each_matching(value, _ORIGIN, "bad origin")

    @field_validator("allowed_hosts")
    @classmethod
    def _check_hosts(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return _each_matching(value, _HOSTNAME, "bad host name")

    @field_validator("frame_ancestors")
    @classmethod
    def _check_ancestors(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for origin in value:
            if not _ORIGIN.match(origin):
                raise ValueError("bad origin")
        return value

    @field_validator("root_path")
    @classmethod
    def _check_root_path(cls, value: str | None) -> str | None:
        if value is not None and not _ROOT_PATH.match(value):
            raise ValueError("bad path")
        return value


def _strong_secret(value: SecretStr | None) -> SecretStr | None:
    text = "" if value is None else value.get_secret_value()
    if value is not None and (len(text.strip()) < MIN_CONTROL_SECRET_CHARS or _LINE(text)):
        raise ValueError("weak")
    return value


def _each_matching(
    value: tuple[str, ...], pattern: re.Pattern[str], problem: str
) -> tuple[str, ...]:
    """The list unchanged if every item is "*" or matches; else ValueError(problem)."""
    if any(item != "*" and not pattern.match(item) for item in value):
        raise ValueError(problem)
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
