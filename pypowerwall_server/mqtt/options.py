"""The MQTT settings as one value (built from the server settings; None: MQTT is off)."""

from __future__ import annotations

import hashlib
import math
import socket
from dataclasses import dataclass

from pypowerwall_server.settings import Settings


@dataclass(frozen=True)
class MqttOptions:
    host: str
    port: int = 1883
    username: str | None = None
    password: str | None = None  # only handed to the client, never logged
    tls: bool = False
    ca_file: str | None = None
    prefix: str = "pypowerwall"
    discovery_prefix: str = "homeassistant"
    min_interval: float = 0.0  # seconds between two states of one device (0: every poll)
    client_id: str = "pypowerwall-server"
    reconnect_backoff: tuple[float, float] = (1.0, 30.0)  # first delay, cap


def client_id(prefix: str, bind_address: str, port: int) -> str:
    """Stable across restarts, different for two servers on one broker (another host,
    port or prefix), so neither kicks the other off."""
    seed = f"{socket.gethostname()}|{bind_address}|{port}|{prefix}"
    return f"pypowerwall-server-{hashlib.sha256(seed.encode()).hexdigest()[:12]}"


def mqtt_options(settings: Settings) -> MqttOptions | None:
    server = settings.server
    if not server.mqtt_host:
        return None
    password = server.mqtt_password.get_secret_value() if server.mqtt_password else None
    return MqttOptions(
        host=server.mqtt_host,
        port=server.mqtt_port,
        username=server.mqtt_username,
        password=password,
        tls=server.mqtt_tls,
        ca_file=server.mqtt_ca_file,
        prefix=server.mqtt_prefix,
        discovery_prefix=server.mqtt_discovery_prefix,
        min_interval=server.mqtt_min_interval,
        client_id=client_id(server.mqtt_prefix, server.bind_address, server.port),
    )


def expire_after(stale_after_intervals: float, interval: float, min_interval: float) -> int:
    """Seconds without a state after which Home Assistant shows the entity unavailable:
    the stale limit plus one publishing period."""
    period = max(interval, min_interval)
    return math.ceil(stale_after_intervals * interval + period)
