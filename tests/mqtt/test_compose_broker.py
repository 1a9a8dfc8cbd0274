"""The broker that docker/compose.multi.yaml offers (`--profile mqtt`) runs with the repo's
own mosquitto.conf: a real mosquitto refuses anonymous clients and lets the documented login
in; the server's MQTT variables in the compose file load as valid settings."""

from __future__ import annotations

import getpass
import subprocess
from pathlib import Path

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from pypowerwall_server.settings import load_settings
from tests import container_files as cf
from tests.waiting import wait_until

from .conftest import Broker, free_port, mosquitto_tool

pytestmark = pytest.mark.integration
DOCKER = cf.ROOT / "docker"
USER, PASSWORD = "pypowerwall", "choose-a-password"


def connect(port: int, login: tuple[str, str] | None) -> int:
    """The broker's CONNACK reason code (0: accepted)."""
    codes: list[int] = []
    client = paho.Client(CallbackAPIVersion.VERSION2)
    if login is not None:
        client.username_pw_set(*login)
    client.on_connect = lambda _c, _u, _f, reason, _p: codes.append(reason.value)
    client.connect("127.0.0.1", port)
    client.loop_start()
    try:
        wait_until(lambda: bool(codes), 5)
    finally:
        client.loop_stop()
        client.disconnect()
    return codes[0]


def test_the_compose_broker_config_wants_a_login(tmp_path: Path) -> None:
    config_dir, data_dir = tmp_path / "config", tmp_path / "data"
    config_dir.mkdir()
    data_dir.mkdir()
    tool = mosquitto_tool("mosquitto_passwd")
    passwd = config_dir / "passwd"
    subprocess.run([tool, "-c", "-b", str(passwd), USER, PASSWORD], check=True)
    passwd.chmod(0o600)
    port = free_port()
    text = (DOCKER / "mosquitto" / "mosquitto.conf").read_text(encoding="utf-8")
    assert "\nlistener 1883\n" in text and "allow_anonymous false" in text
    text = text.replace("listener 1883", f"listener {port} 127.0.0.1\nuser {getpass.getuser()}")
    text = text.replace("/mosquitto/config/", f"{config_dir}/")
    text = text.replace("/mosquitto/data/", f"{data_dir}/")
    broker = Broker(mosquitto_tool("mosquitto"), tmp_path)
    broker.port = port
    broker.config.write_text(text, encoding="utf-8")
    broker.start()
    try:
        assert connect(port, None) != 0  # anonymous: refused
        assert connect(port, (USER, "wrong")) != 0
        assert connect(port, (USER, PASSWORD)) == 0
    finally:
        broker.stop()


def test_the_compose_file_offers_the_broker_as_an_option() -> None:
    services = cf.compose(DOCKER / "compose.multi.yaml")["services"]
    mosquitto = services["mosquitto"]
    assert mosquitto["profiles"] == ["mqtt"]  # started only with --profile mqtt
    assert "./mosquitto:/mosquitto/config:ro" in mosquitto["volumes"]
    assert any(str(port).endswith(":1883") for port in mosquitto["ports"])
    server_env = services["pypowerwall-server"]["environment"]
    env = {key: cf.substituted(str(value)) for key, value in server_env.items()}
    env.update(PW_MQTT_HOST="mosquitto", PW_MQTT_USERNAME=USER, PW_MQTT_PASSWORD=PASSWORD)
    env["PW_CONFIG"] = str(DOCKER / "gateways.yaml")
    server = load_settings([], env).server
    assert server.mqtt_host == "mosquitto" and server.mqtt_username == USER
