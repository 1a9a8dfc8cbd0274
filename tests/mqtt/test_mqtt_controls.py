"""Controls over MQTT against a real mosquitto, with the demo's two simulated gateways read
and written over v1r (real pypowerwall, RSA-signed, over HTTPS): Home Assistant discovery of
the controls, a reserve set end to end with its read-back on the state topic, bad values
refused before anything reaches the gateway, and no controls while control is off."""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from starlette.testclient import TestClient

from pypowerwall_server.app import create_app
from pypowerwall_server.demo import DEMO_SITES, demo_gateways
from pypowerwall_server.settings import ServerConfig, Settings
from pypowerwall_server.simulator.gateway import SimulatedGateway
from pypowerwall_server.simulator.runner import RunningSimulator, running_simulator
from tests.home_assistant import discovery_problems
from tests.integration.conftest import frozen_gateway
from tests.unit.simulator.sim_admin_client import settings, written
from tests.unit.simulator.v1r_signing import public_pem, rsa_key, write_private_key
from tests.waiting import wait_until

from .conftest import Broker, Recorder
from .test_mqtt_publisher import check_component

pytestmark = pytest.mark.integration

SECRET = "c0ntrol-s3cret-for-mqtt-tests"
BEARER = {"Authorization": f"Bearer {SECRET}"}
SNAPSHOT = Path(__file__).with_name("discovery_controls_snapshot.json")
GATEWAY_CONFIGS = tuple(
    f"homeassistant/device/pypowerwall_gw_{gid}/config" for gid in ("home", "cabin")
)
HOME_STATE = "pypowerwall/gateway/home/state"
CONTROL_KEYS = {
    "set_backup_reserve": "number",
    "set_operating_mode": "select",
    "set_export_rule": "select",
    "set_grid_charging": "switch",
    "hold_reserve": "button",
    "dispatch_battery_power": "number",
    "resume_battery": "button",
}


@pytest.fixture(scope="module")
def sim() -> Iterator[RunningSimulator]:
    with running_simulator(DEMO_SITES, app_factory=frozen_gateway) as running:
        public_key = public_pem(rsa_key("owner")).decode()
        for gateway in running.gateways:  # as `python -m pypowerwall register` pairs a key
            app = running.gateway(gateway.id).app
            assert isinstance(app, SimulatedGateway)
            app.register_v1r_key(public_key)
        yield running


@pytest.fixture(scope="module")
def key_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_private_key(rsa_key("owner"), tmp_path_factory.mktemp("v1r") / "key.pem")


def control_settings(
    sim: RunningSimulator, key_file: Path, broker: Broker, secret: str | None
) -> Settings:
    server = ServerConfig(
        bind_address="127.0.0.1",
        mqtt_host="127.0.0.1",
        mqtt_port=broker.port,
        control_secret=SecretStr(secret) if secret else None,
        mqtt_control=True,
    )
    # A long interval: between the first poll and a write's own refresh, nothing else
    # reaches the gateway, so its request counter shows what a command sent.
    return Settings(server=server, gateways=demo_gateways(sim, 60.0, key_file))


@pytest.fixture(scope="module")
def module_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    from .conftest import mosquitto_tool

    running = Broker(mosquitto_tool("mosquitto"), tmp_path_factory.mktemp("broker"))
    running.start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def watcher(module_broker: Broker) -> Iterator[Recorder]:
    running = Recorder(module_broker.port).start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def server(
    sim: RunningSimulator, key_file: Path, module_broker: Broker, watcher: Recorder
) -> Iterator[TestClient]:
    app = create_app(control_settings(sim, key_file, module_broker, SECRET))
    with TestClient(app) as client:
        wait_until(lambda: _ready(watcher), 30)
        yield client


def _ready(recorder: Recorder) -> bool:
    if not all(recorder.latest(t) for t in GATEWAY_CONFIGS):
        return False
    payload = recorder.latest(HOME_STATE)
    return payload is not None and json.loads(payload)["backup_reserve"] is not None


def config(recorder: Recorder, topic: str) -> dict[str, Any]:
    payload = recorder.latest(topic)
    assert payload, topic
    parsed: dict[str, Any] = json.loads(payload)
    return parsed


def v1r_requests(sim: RunningSimulator, gateway_id: str) -> int:
    return sim.request_counts(gateway_id).get("/tedapi/v1r", 0)


def audit(client: TestClient) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = client.get("/api/control/audit", headers=BEARER).json()[
        "entries"
    ]
    return entries


# --- discovery ------------------------------------------------------------------------
def test_controls_are_valid_home_assistant_config_components(
    server: TestClient, watcher: Recorder
) -> None:
    for topic in GATEWAY_CONFIGS:
        found = config(watcher, topic)
        state_topic = found["state_topic"]
        controls = {k: c for k, c in found["cmps"].items() if "command_topic" in c}
        assert {k: c["p"] for k, c in controls.items()} == CONTROL_KEYS  # v1r: all seven
        assert discovery_problems(found) == []
        assert found["cmps"]["backup_reserve"] == {"p": "sensor"}  # the number is the one
        # the dispatch number shows battery power, but the battery power sensor stays
        assert found["cmps"]["battery_power"]["unique_id"].endswith("_battery_power")
        for key, component in found["cmps"].items():
            if key == "backup_reserve":
                continue
            if key in controls:
                check_control(key, component, state_topic)
            else:
                check_component(key, component)


def check_control(key: str, component: dict[str, Any], state_topic: str) -> None:
    platform = component["p"]
    assert component["entity_category"] == "config", key
    assert component["unique_id"] and component["name"]
    assert component["default_entity_id"].startswith(f"{platform}.pypowerwall_")
    gateway = state_topic.split("/")[2]
    assert component["command_topic"].startswith(f"pypowerwall/gateway/{gateway}/set/")
    if platform == "button":
        assert component["payload_press"] == "PRESS" and "state_topic" not in component
        return
    assert component["state_topic"] == state_topic
    assert "'None'" in component["value_template"]  # unknown, not a value
    if key == "set_backup_reserve":
        assert (component["min"], component["max"], component["step"]) == (0, 100, 1)
    if key == "dispatch_battery_power":  # reads back the battery power, in W
        assert (component["min"], component["max"]) == (-30000, 30000)
        assert component["unit_of_measurement"] == "W"
        assert "value_json.battery_power" in component["value_template"]
    if platform == "select":
        assert component["options"] and all(isinstance(o, str) for o in component["options"])
    if platform == "switch":
        assert (component["payload_on"], component["payload_off"]) == ("ON", "OFF")


def test_discovery_with_controls_snapshot(server: TestClient, watcher: Recorder) -> None:
    """A gateway's discovery with control on (UPDATE_SNAPSHOTS=1 rewrites); the other
    differs only in its names and topics."""
    from pypowerwall_server import __version__

    found = {topic: config(watcher, topic) for topic in GATEWAY_CONFIGS[:1]}
    found = json.loads(json.dumps(found).replace(f'"sw": "{__version__}"', '"sw": "VERSION"'))
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        SNAPSHOT.write_text(json.dumps(found, indent=1, ensure_ascii=False) + "\n", "utf-8")
    assert found == json.loads(SNAPSHOT.read_text("utf-8"))


# --- commands -------------------------------------------------------------------------
def test_reserve_number_sets_the_site_and_the_state_shows_the_read_back(
    server: TestClient, sim: RunningSimulator, watcher: Recorder
) -> None:
    cabin_before = written(sim, "cabin")
    target = 35 if settings(sim, "home")["backup_reserve_percent"] != pytest.approx(35) else 45
    sent = time.monotonic()
    watcher.publish("pypowerwall/gateway/home/set/reserve", str(target).encode())

    def read_back() -> bool:
        states = [json.loads(m.payload) for m in watcher.since(sent) if m.topic == HOME_STATE]
        return any(s["backup_reserve"] == pytest.approx(target, abs=0.5) for s in states)

    wait_until(read_back, 20)
    assert settings(sim, "home")["backup_reserve_percent"] == pytest.approx(target, abs=0.5)
    assert written(sim, "cabin") == cabin_before  # one gateway's control never moves another
    newest = audit(server)[0]
    assert (newest["client"], newest["gateway"], newest["what"]) == ("mqtt", "home", "reserve")
    assert (newest["new"], newest["result"]) == (str(target), "applied")


def test_dispatch_number_and_resume_button_drive_the_battery(
    server: TestClient, sim: RunningSimulator, watcher: Recorder
) -> None:
    battery = sim.gateway("home").app
    watcher.publish("pypowerwall/gateway/home/set/dispatch", b"-3000")
    wait_until(lambda: audit(server)[0]["what"] == "dispatch", 20)
    newest = audit(server)[0]
    assert (newest["client"], newest["new"]) == ("mqtt", "-3000,900")
    assert battery.state().battery.instant_power_w == pytest.approx(-3000, abs=150)
    assert server.get("/gw/home/control/dispatch").json()["dispatch"]["power_w"] == -3000
    watcher.publish("pypowerwall/gateway/home/set/resume", b"PRESS")
    wait_until(lambda: audit(server)[0]["what"] == "resume", 20)
    assert audit(server)[0]["result"] == "applied"
    assert battery.state().battery.instant_power_w != pytest.approx(-3000, abs=150)
    assert server.get("/gw/home/control/dispatch").json()["dispatch"]["active"] is False


def test_bad_values_are_refused_logged_and_nothing_reaches_the_gateway(
    server: TestClient, sim: RunningSimulator, watcher: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="pypowerwall_server.mqtt")
    before = (v1r_requests(sim, "home"), written(sim, "home"))
    audited = len(audit(server))
    bad = (("reserve", b"101"), ("reserve", b"abc"), ("mode", b"turbo\n\x1b[2J"))
    for control, payload in bad:
        watcher.publish(f"pypowerwall/gateway/home/set/{control}", payload)
    wait_until(lambda: len(audit(server)) >= audited + len(bad), 10)
    refused = audit(server)[: len(bad)]
    assert all(e["client"] == "mqtt" and e["result"] == "refused: invalid value" for e in refused)
    assert (v1r_requests(sim, "home"), written(sim, "home")) == before
    warnings = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    assert any("reserve=101" in w for w in warnings)
    assert any("mode=turbo\\n\\x1b[2J" in w for w in warnings)  # escaped: one line
    assert all("\n" not in w and "\x1b" not in w for w in warnings)


def test_a_command_published_retained_is_never_applied(
    server: TestClient, sim: RunningSimulator, watcher: Recorder
) -> None:
    """Live, not only when the broker replays it: MQTT 3.1.1 would clear the flag on live
    delivery; we subscribe with MQTT 5 retain-as-published and refuse it."""
    before = (v1r_requests(sim, "home"), written(sim, "home"))
    audited = len(audit(server))
    topic = "pypowerwall/gateway/home/set/reserve"
    watcher.publish(topic, b"42", retain=True)
    try:
        wait_until(lambda: len(audit(server)) > audited, 10)
        newest = audit(server)[0]
        assert (newest["client"], newest["what"]) == ("mqtt", "reserve")
        assert newest["result"] == "refused: retained command"
        assert (v1r_requests(sim, "home"), written(sim, "home")) == before
    finally:
        watcher.publish(topic, b"", retain=True)  # clear it: the broker is shared


# --- control off ------------------------------------------------------------------------
def test_control_off_has_no_command_components_and_ignores_commands(
    sim: RunningSimulator, key_file: Path, broker: Broker, recorder: Recorder
) -> None:
    with TestClient(create_app(control_settings(sim, key_file, broker, None))):
        wait_until(lambda: _ready(recorder), 30)  # polled: the gateway is quiet from now
        for topic in GATEWAY_CONFIGS:
            components = config(recorder, topic)["cmps"].values()
            assert not [c for c in components if "command_topic" in c], topic
        before = (v1r_requests(sim, "home"), written(sim, "home"))
        recorder.publish("pypowerwall/gateway/home/set/reserve", b"55")
        # A message published after the command and answered proves the command was past.
        moment = time.monotonic()
        recorder.publish("homeassistant/status", b"online")
        wait_until(lambda: any(m.topic == GATEWAY_CONFIGS[0] for m in recorder.since(moment)), 5)
        time.sleep(0.3)  # a command run would reach the gateway well within this
    assert (v1r_requests(sim, "home"), written(sim, "home")) == before
