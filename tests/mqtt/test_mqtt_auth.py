"""A broker that wants a user name and password (mosquitto with a password file): the right
ones connect; the wrong password is refused, logged once, and the password itself appears
nowhere: not in the log, /stats, /metrics or the published messages."""

from __future__ import annotations

import logging
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr
from starlette.testclient import TestClient

from pypowerwall_server.app import create_app
from pypowerwall_server.demo import DEMO_SITES
from pypowerwall_server.settings import ServerConfig, Settings
from pypowerwall_server.simulator.runner import running_simulator
from tests.demo_readers import demo_gateways
from tests.waiting import wait_until

from .conftest import Broker, Recorder, mosquitto_tool

pytestmark = pytest.mark.integration
USER, PASSWORD = "pw-server", "mqtt-Secret-4711"


@pytest.fixture
def locked_broker(tmp_path: Path) -> Iterator[Broker]:
    passwords = tmp_path / "passwords"
    tool = mosquitto_tool("mosquitto_passwd")
    subprocess.run([tool, "-c", "-b", str(passwords), USER, PASSWORD], check=True)
    subprocess.run([tool, "-b", str(passwords), "recorder", "recorder-pw"], check=True)
    passwords.chmod(0o600)
    broker = Broker(mosquitto_tool("mosquitto"), tmp_path, passwords)
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


def settings(broker: Broker, password: str, gateways: tuple) -> Settings:  # type: ignore[type-arg]
    server = ServerConfig(
        bind_address="127.0.0.1",
        mqtt_host="127.0.0.1",
        mqtt_port=broker.port,
        mqtt_username=USER,
        mqtt_password=SecretStr(password),
    )
    return Settings(server=server, gateways=gateways)


def test_right_password_connects_wrong_one_is_refused_and_never_shown(
    locked_broker: Broker, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    recorder = Recorder(locked_broker.port)
    recorder_client = recorder.start_with_credentials("recorder", "recorder-pw")
    try:
        with running_simulator(DEMO_SITES) as sim:
            gateways = demo_gateways(sim, 1.0)
            with TestClient(
                create_app(settings(locked_broker, "wrong-" + PASSWORD, gateways))
            ) as c:
                wait_until(lambda: any("unavailable" in r.message for r in caplog.records), 10)
                time.sleep(3.5)  # more attempts: still one line
                bodies = [c.get(path).text for path in ("/stats", "/metrics", "/help")]
                assert "pypowerwall_mqtt_connected 0.0" in bodies[1]
            with TestClient(create_app(settings(locked_broker, PASSWORD, gateways))) as c:
                wait_until(lambda: recorder.latest("pypowerwall/status") == b"online", 15)
                assert "pypowerwall_mqtt_connected 1.0" in c.get("/metrics").text
    finally:
        recorder_client.stop()
    refused = [r for r in caplog.records if r.name.startswith("pypowerwall_server.mqtt")]
    assert sum("unavailable" in r.getMessage() for r in refused) == 1
    logged = "\n".join(r.getMessage() for r in caplog.records)
    for text in (logged, *bodies, *(m.payload.decode(errors="replace") for m in recorder.messages)):
        assert PASSWORD not in text
