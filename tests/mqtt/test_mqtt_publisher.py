"""The MQTT publisher against a real mosquitto, with the demo's two simulated gateways
(real pypowerwall over HTTPS): Home Assistant discovery, states equal to our API, unknown
counters, broker restarts, Home Assistant restarts, stale gateways and departed gateways."""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from starlette.testclient import TestClient

from pypowerwall_server.app import create_app
from pypowerwall_server.demo import DEMO_SITES
from pypowerwall_server.metrics import GATEWAY_METRICS
from pypowerwall_server.settings import GatewayConfig, ServerConfig, Settings
from pypowerwall_server.simulator.faults import Fault
from pypowerwall_server.simulator.runner import RunningSimulator, running_simulator
from tests.demo_readers import demo_gateways
from tests.home_assistant import (
    BINARY_DEVICE_CLASSES,
    ENTITY_CATEGORIES,
    SENSOR_UNITS,
    STATE_CLASSES,
)
from tests.integration.conftest import frozen_gateway
from tests.waiting import wait_until

from .conftest import Broker, Recorder

pytestmark = pytest.mark.integration

SNAPSHOT = Path(__file__).with_name("discovery_snapshot.json")
PREFIX, DISCOVERY = "pypowerwall", "homeassistant"
DEVICES = (  # the demo: two gateways with two battery units each, and the site total
    "pypowerwall_gw_home",
    "pypowerwall_gw_home_battery_tg123456789000",
    "pypowerwall_gw_home_battery_tg123456789001",
    "pypowerwall_gw_cabin",
    "pypowerwall_gw_cabin_battery_tg987654321000",
    "pypowerwall_gw_cabin_battery_tg987654321001",
    "pypowerwall_site",
)
CONFIGS = tuple(f"{DISCOVERY}/device/{node}/config" for node in DEVICES)
STATES = (
    "pypowerwall/gateway/home/state",
    "pypowerwall/gateway/cabin/state",
    "pypowerwall/site/state",
)
ENERGY_KEYS = tuple(m.key for m in GATEWAY_METRICS if m.counter)  # six lifetime counters


@pytest.fixture(scope="module")
def sim() -> Iterator[RunningSimulator]:
    with running_simulator(DEMO_SITES, app_factory=frozen_gateway) as running:
        yield running


def mqtt_settings(
    broker: Broker, gateways: tuple[GatewayConfig, ...], stale_after: float = 3.0
) -> Settings:
    server = ServerConfig(
        bind_address="127.0.0.1",
        mqtt_host="127.0.0.1",
        mqtt_port=broker.port,
        stale_after_intervals=stale_after,
    )
    return Settings(server=server, gateways=gateways)


@contextmanager
def serving(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as client:
        yield client


def has_all(recorder: Recorder, topics: tuple[str, ...]) -> bool:
    seen = recorder.topics()
    return all(topic in seen for topic in topics)


def referenced_topics_seen(recorder: Recorder) -> bool:
    """Every state and availability topic a discovery config names has been published."""
    seen = recorder.topics()
    for topic in CONFIGS:
        payload = recorder.latest(topic)
        if not payload:
            return False
        config = json.loads(payload)
        named = [config["state_topic"], *(a["topic"] for a in config["availability"])]
        if not all(t in seen for t in named):
            return False
    return True


def configs(recorder: Recorder) -> dict[str, dict[str, Any]]:
    found = {}
    for topic in CONFIGS:
        payload = recorder.latest(topic)
        assert payload, topic
        found[topic] = json.loads(payload)
    return found


def state(recorder: Recorder, topic: str) -> dict[str, Any]:
    payload = recorder.latest(topic)
    assert payload is not None, topic
    parsed: dict[str, Any] = json.loads(payload)
    return parsed


# --- discovery ------------------------------------------------------------------------
def test_discovery_is_valid_home_assistant_device_discovery(
    sim: RunningSimulator, broker: Broker, recorder: Recorder
) -> None:
    with serving(mqtt_settings(broker, demo_gateways(sim, 1.0))):
        wait_until(lambda: has_all(recorder, CONFIGS + STATES), 30)
        wait_until(lambda: referenced_topics_seen(recorder), 10)  # battery states follow
    seen = recorder.topics()
    unique_ids: list[str] = []
    for topic, config in configs(recorder).items():
        assert set(config) >= {"dev", "o", "cmps", "state_topic", "availability"}, topic
        assert config["dev"]["ids"] and config["dev"]["name"]
        assert config["o"]["name"] == "pypowerwall-server" and config["o"]["sw"]
        assert config["state_topic"] in seen, topic  # a state was published there
        for availability in config["availability"]:
            assert availability["topic"] in seen
        for key, component in config["cmps"].items():
            check_component(key, component)
            unique_ids.append(component["unique_id"])
        if "via_device" in config["dev"]:
            assert config["dev"]["via_device"] in DEVICES
    assert len(unique_ids) == len(set(unique_ids))
    later = Recorder(broker.port).start()  # a late subscriber gets the configs: retained
    try:
        wait_until(lambda: has_all(later, CONFIGS), 5)
        assert all(m.retain for m in later.messages if m.topic in CONFIGS)
    finally:
        later.stop()


def check_component(key: str, component: dict[str, Any]) -> None:
    platform = component["p"]
    if platform == "event":  # the gateway's events (mqtt/events.py)
        assert component["event_types"] and component["state_topic"].endswith("/events")
        assert component["default_entity_id"].startswith(f"event.{PREFIX}_")
        return
    assert platform in ("sensor", "binary_sensor"), key
    assert component["unique_id"] and component["name"] and component["value_template"]
    assert component["default_entity_id"].startswith(f"{platform}.{PREFIX}_")
    assert "object_id" not in component  # no longer honoured by Home Assistant
    assert component["expire_after"] > 0
    assert component.get("state_class") in STATE_CLASSES
    assert component.get("entity_category") in ENTITY_CATEGORIES
    device_class = component.get("device_class")
    if platform == "binary_sensor":
        assert device_class in BINARY_DEVICE_CLASSES and "unit_of_measurement" not in component
        assert (component["payload_on"], component["payload_off"]) == ("ON", "OFF")
        return
    if device_class is not None:
        assert component.get("unit_of_measurement") in SENSOR_UNITS[device_class], key
    if device_class == "enum":  # null renders "None": unknown, even with options
        assert component["options"] and "state_class" not in component
    numeric = "unit_of_measurement" in component or "state_class" in component
    if not numeric and device_class is None:  # text: null or empty is unknown, not blank
        assert "'None' if value_json." in component["value_template"]
    if device_class == "energy":
        assert component["state_class"] == "total_increasing"


def test_discovery_snapshot(sim: RunningSimulator, broker: Broker, recorder: Recorder) -> None:
    """The full discovery set, as Home Assistant receives it (UPDATE_SNAPSHOTS=1 rewrites)."""
    with serving(mqtt_settings(broker, demo_gateways(sim, 1.0))):
        wait_until(lambda: has_all(recorder, CONFIGS), 30)
    found = {topic: configs(recorder)[topic] for topic in sorted(CONFIGS)}
    found = json.loads(json.dumps(found).replace(f'"sw": "{_version()}"', '"sw": "VERSION"'))
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        SNAPSHOT.write_text(json.dumps(found, indent=1, ensure_ascii=False) + "\n", "utf-8")
    assert found == json.loads(SNAPSHOT.read_text("utf-8"))


def _version() -> str:
    from pypowerwall_server import __version__

    return __version__


# --- state ----------------------------------------------------------------------------
def test_states_equal_the_api(sim: RunningSimulator, broker: Broker, recorder: Recorder) -> None:
    with serving(mqtt_settings(broker, demo_gateways(sim, 1.0))) as client:
        wait_until(lambda: has_all(recorder, STATES), 30)
        for gid in ("home", "cabin"):
            detail = client.get(f"/api/gateways/{gid}").json()
            data = detail["data"]
            aggregates = client.get(f"/api/gateways/{gid}/aggregates").json()
            topic = f"pypowerwall/gateway/{gid}/state"
            # The state of the API's poll or a later one (the simulator's clock stands still:
            # every poll reads the same); a fixed wait fell a poll behind on a busy machine.
            polled_at = detail["last_updated"]
            wait_until(lambda t=topic, at=polled_at: state(recorder, t)["updated_at"] >= at, 10)
            published = state(recorder, topic)
            power = data["power_w"]
            assert published["grid_power"] == power["site"]
            assert published["battery_power"] == power["battery"]
            assert published["home_power"] == power["load"]
            assert published["solar_power"] == power["solar"]
            assert published["battery_level"] == data["soe"]["percent_app"]
            assert published["battery_level_raw"] == data["soe"]["percent_raw"]
            assert published["energy_remaining"] == data["soe"]["energy_remaining_wh"]
            assert published["full_pack_energy"] == data["soe"]["capacity_wh"]
            assert published["grid_status"] == data["grid_status"]
            assert published["backup_reserve"] == data["backup_reserve_percent_app"]
            assert published["operating_mode"] == data["operating_mode"]
            assert published["time_remaining"] == data["time_remaining_hours"]
            assert published["firmware"] == data["firmware_version"]
            assert published["transport"] == detail["transport"]["active"]
            assert published["on_fallback"] == detail["transport"]["on_fallback"]
            assert published["degraded"] == detail["degraded"]
            assert published["degraded_reason"] == detail["transport"]["degraded_reason"]
            assert published["grid_import_energy"] == aggregates["site"]["energy_imported"]
            assert published["solar_energy"] == aggregates["solar"]["energy_exported"]

        def site_agrees() -> bool:
            """The newest site state and the API's totals: equal once both have every
            gateway (a busy machine can let a gateway go stale, and out of the totals)."""
            site_power = client.get("/api/aggregate/power").json()
            site_soe = client.get("/api/aggregate/soe").json()
            site = state(recorder, "pypowerwall/site/state")
            return (
                site_power["complete"] is True
                and site["grid_power"] == site_power["site"]
                and site["solar_power"] == site_power["solar"]
                and site["battery_level"] == site_soe["percent_app"]
                and site["full_pack_energy"] == site_soe["total_capacity_wh"]
            )

        wait_until(site_agrees, 15)


def test_missing_counters_publish_no_energy_value_never_zero(
    broker: Broker, recorder: Recorder
) -> None:
    # The TEDAPI gateway reads its lifetime counters from the local API's aggregates; with
    # that answering 404, pypowerwall has power but no counters.
    site = replace(DEMO_SITES[0])
    with running_simulator((site,), app_factory=frozen_gateway) as running:
        running.set_fault(
            site.gateway_id, Fault(kind="status", status=404, path="/api/meters/aggregates")
        )
        (home,) = demo_gateways_single(running)
        with serving(mqtt_settings(broker, (home,))):
            topic = "pypowerwall/gateway/home/state"
            wait_until(lambda: sum(m.topic == topic for m in recorder.messages) >= 3, 30)
    assert len(ENERGY_KEYS) == 6
    states = [json.loads(m.payload) for m in recorder.messages if m.topic == topic]
    assert states and all(s["grid_power"] is not None for s in states)
    for published in states:
        for key in ENERGY_KEYS:
            assert published[key] is None, (key, published[key])  # null: unknown, not 0


def demo_gateways_single(running: RunningSimulator) -> tuple[GatewayConfig]:
    (gateway,) = running.gateways
    return (
        GatewayConfig(
            id="home",
            host=gateway.host,
            gw_pwd=SecretStr(gateway.config.gw_pwd),
            poll_interval=1.0,
        ),
    )


# --- reconnect and republish ------------------------------------------------------------
def test_broker_restart_reconnects_and_republishes_within_10_s(
    sim: RunningSimulator, broker: Broker
) -> None:
    with serving(mqtt_settings(broker, demo_gateways(sim, 1.0))) as client:
        first = Recorder(broker.port).start()
        try:
            wait_until(lambda: has_all(first, CONFIGS + STATES), 30)
        finally:
            first.stop()
        broker.stop()
        # /metrics renders at most once a second: this waits for the server to notice
        wait_until(lambda: "pypowerwall_mqtt_connected 0.0" in client.get("/metrics").text, 10)
        broker.start()  # no persistence: every retained config is gone
        restarted = time.monotonic()
        after = Recorder(broker.port).start()
        try:
            wait_until(lambda: has_all(after, CONFIGS + STATES), 10)
            elapsed = time.monotonic() - restarted
            assert after.latest(f"{PREFIX}/status") == b"online"
        finally:
            after.stop()
    assert elapsed < 10


def test_homeassistant_online_triggers_a_republish(
    sim: RunningSimulator, broker: Broker, recorder: Recorder
) -> None:
    with serving(mqtt_settings(broker, demo_gateways(sim, 1.0))):
        wait_until(lambda: has_all(recorder, CONFIGS), 30)
        moment = time.monotonic()
        recorder.publish(f"{DISCOVERY}/status", b"online")

        def republished() -> bool:
            return {m.topic for m in recorder.since(moment)} >= set(CONFIGS)

        wait_until(republished, 5)
        offline_moment = time.monotonic()
        recorder.publish(f"{DISCOVERY}/status", b"offline")
        # The server handles its subscription's messages in order: once the republish for
        # a second "online" shows, the "offline" before it has been handled.
        recorder.publish(f"{DISCOVERY}/status", b"online")
        wait_until(lambda: {m.topic for m in recorder.since(offline_moment)} >= set(CONFIGS), 5)
        republished = [m.topic for m in recorder.since(offline_moment) if m.topic in CONFIGS]
        assert sorted(republished) == sorted(CONFIGS)  # once each: for "online" only


def test_server_status_is_online_then_offline_on_shutdown(
    sim: RunningSimulator, broker: Broker, recorder: Recorder
) -> None:
    with serving(mqtt_settings(broker, demo_gateways(sim, 1.0))) as client:
        wait_until(lambda: recorder.latest(f"{PREFIX}/status") == b"online", 30)
        wait_until(lambda: "pypowerwall_mqtt_connected 1.0" in client.get("/metrics").text, 5)
    wait_until(lambda: recorder.latest(f"{PREFIX}/status") == b"offline", 5)


# --- availability -------------------------------------------------------------------------
def test_stale_gateway_goes_offline_within_its_stale_limit_and_back_online(
    sim: RunningSimulator, broker: Broker, recorder: Recorder
) -> None:
    stale_after, interval = 2.0, 1.0
    availability = f"{PREFIX}/gateway/cabin/availability"
    with serving(mqtt_settings(broker, demo_gateways(sim, interval), stale_after)):
        wait_until(lambda: recorder.latest(availability) == b"online", 30)
        fault = sim.set_fault("cabin", Fault(kind="hang"))
        hung_at = time.monotonic()
        try:
            wait_until(lambda: recorder.latest(availability) == b"offline", 10)
            assert recorder.latest(f"{PREFIX}/gateway/home/availability") == b"online"
        finally:
            sim.clear_faults("cabin", fault)
        wait_until(lambda: recorder.latest(availability) == b"online", 30)
    offline = next(
        m for m in recorder.since(hung_at) if m.topic == availability and m.payload == b"offline"
    )
    last_data = max(
        json.loads(m.payload)["updated_at"]
        for m in recorder.messages
        if m.topic == "pypowerwall/gateway/cabin/state" and m.at < offline.at
    )
    # offline once the newest data is stale_after intervals old (the stale limit), give or
    # take the delivery of two messages on a busy machine
    assert offline.wall - last_data == pytest.approx(stale_after * interval, abs=0.75)


# --- departed gateways ---------------------------------------------------------------------
def test_a_departed_gateway_is_removed_from_home_assistant(
    sim: RunningSimulator, broker: Broker, recorder: Recorder
) -> None:
    gateways = demo_gateways(sim, 1.0)
    with serving(mqtt_settings(broker, gateways)):
        wait_until(lambda: has_all(recorder, CONFIGS), 30)
    moment = time.monotonic()
    with serving(mqtt_settings(broker, gateways[:1])):  # cabin left the configuration
        gone = [t for t in CONFIGS if "cabin" in t or "site" in t]

        def removed() -> bool:
            return all(recorder.latest(topic) == b"" for topic in gone)

        wait_until(removed, 10)
    kept = [t for t in CONFIGS if t not in gone]
    assert all(recorder.latest(topic) for topic in kept)
    assert all(m.topic not in kept or m.payload for m in recorder.since(moment))


# --- logging ----------------------------------------------------------------------------
def test_broker_down_is_logged_once_and_recovery_once(
    sim: RunningSimulator, broker: Broker, caplog: pytest.LogCaptureFixture
) -> None:
    broker.stop()
    caplog.set_level(logging.INFO, logger="pypowerwall_server.mqtt")
    with serving(mqtt_settings(broker, demo_gateways(sim, 1.0))):
        time.sleep(4.0)  # three attempts (backoff 1 s, 2 s)
        broker.start()
        wait_until(lambda: any("reconnected" in r.message for r in caplog.records), 15)
    messages = [r.message for r in caplog.records if r.name.startswith("pypowerwall_server.mqtt")]
    assert sum("unavailable" in m for m in messages) == 1, messages
    assert sum("reconnected" in m for m in messages) == 1, messages


def test_a_read_token_leaves_mqtt_publishing(
    sim: RunningSimulator, broker: Broker, recorder: Recorder
) -> None:
    """PW_READ_TOKEN guards HTTP and WebSockets only: the broker has its own credentials."""
    plain = mqtt_settings(broker, demo_gateways(sim, 1.0))
    server = plain.server.model_copy(update={"read_token": SecretStr("read-token-0123456789")})
    with serving(Settings(server=server, gateways=plain.gateways)) as client:
        wait_until(lambda: has_all(recorder, STATES), 30)
        assert client.get("/api/aggregate/power").status_code == 401
        # the site total goes out once every gateway is counted (at most once a second)
        wait_until(lambda: state(recorder, "pypowerwall/site/state")["grid_power"] is not None, 30)
