"""A real mosquitto broker on a free loopback port with its own config (Debian package
`mosquitto`; a missing one fails CI through require_tool), and a recording subscriber."""

from __future__ import annotations

import getpass
import os
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from tests.conftest import require_tool
from tests.integration.server_process import free_port
from tests.waiting import wait_until

SBIN = "/usr/sbin"  # where Debian puts mosquitto; not on every user's PATH


class Broker:
    def __init__(self, executable: str, folder: Path, password_file: Path | None = None) -> None:
        self.executable = executable
        self.port = free_port()
        self.config = folder / "mosquitto.conf"
        access = (
            f"allow_anonymous false\npassword_file {password_file}\n"
            if password_file
            else "allow_anonymous true\n"
        )
        self.config.write_text(
            f"listener {self.port} 127.0.0.1\n"
            f"user {getpass.getuser()}\n"  # as root it would switch to "mosquitto": no access
            f"{access}"
            "persistence false\n"
            "log_dest stderr\n"
            "log_type error\n"
        )
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.executable, "-c", str(self.config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(self._accepting, 10)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
            self.process = None

    def _accepting(self) -> bool:
        with socket.socket() as sock:
            sock.settimeout(0.2)
            return sock.connect_ex(("127.0.0.1", self.port)) == 0


def mosquitto_tool(name: str) -> str:
    path = os.environ.get("PATH", "")
    with pytest.MonkeyPatch.context() as patch:
        if SBIN not in path.split(os.pathsep):
            patch.setenv("PATH", f"{path}{os.pathsep}{SBIN}")
        return require_tool(name, "apt-get install -y mosquitto")


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    running = Broker(mosquitto_tool("mosquitto"), tmp_path)
    running.start()
    try:
        yield running
    finally:
        running.stop()


@dataclass
class Received:
    topic: str
    payload: bytes
    retain: bool
    at: float  # time.monotonic() of receipt
    wall: float  # time.time() of receipt: comparable with the server's epoch timestamps


@dataclass
class Recorder:
    """Subscribes to everything; keeps every message and the newest per topic."""

    port: int
    messages: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    client: paho.Client | None = None

    def start(self, topic: str = "#") -> Recorder:
        return self.start_with_credentials(None, None, topic)

    def start_with_credentials(
        self, username: str | None, password: str | None, topic: str = "#"
    ) -> Recorder:
        client = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"recorder-{id(self)}")
        if username is not None:
            client.username_pw_set(username, password)
        client.on_message = self._on_message
        client.on_connect = lambda c, *_: c.subscribe(topic, qos=1)
        client.connect("127.0.0.1", self.port)
        client.loop_start()
        self.client = client
        return self

    def stop(self) -> None:
        if self.client is not None:
            self.client.loop_stop()
            self.client.disconnect()

    def _on_message(self, _client: paho.Client, _userdata: object, msg: paho.MQTTMessage) -> None:
        with self.lock:
            received = Received(msg.topic, msg.payload, msg.retain, time.monotonic(), time.time())
            self.messages.append(received)

    def latest(self, topic: str) -> bytes | None:
        with self.lock:
            for message in reversed(self.messages):
                if message.topic == topic:
                    return message.payload
        return None

    def since(self, moment: float) -> list[Received]:
        with self.lock:
            return [m for m in self.messages if m.at >= moment]

    def topics(self) -> set[str]:
        with self.lock:
            return {m.topic for m in self.messages}

    def publish(self, topic: str, payload: bytes, retain: bool = False) -> None:
        assert self.client is not None
        self.client.publish(topic, payload, qos=1, retain=retain).wait_for_publish(5)


@pytest.fixture
def recorder(broker: Broker) -> Iterator[Recorder]:
    running = Recorder(broker.port).start()
    try:
        yield running
    finally:
        running.stop()
