"""Commands over MQTT without a broker: through the real control layer (service, limits,
audit) onto a fake supervisor. Payloads become the control layer's values; bad ones are
refused, audited as client `mqtt`, logged escaped and never written; a flood keeps only the
newest command per entity."""

from __future__ import annotations

import asyncio
import logging

import orjson
import pytest
from pydantic import SecretStr

from pypowerwall_server.answers import ReadModel
from pypowerwall_server.control.audit import AuditTrail
from pypowerwall_server.control.auth import TokenGuard
from pypowerwall_server.control.commands import Control
from pypowerwall_server.control.follow_up import FollowUps
from pypowerwall_server.control.limits import WriteTransport
from pypowerwall_server.control.readback import ControlState
from pypowerwall_server.control.service import ControlService
from pypowerwall_server.control.wiring import ControlAccess
from pypowerwall_server.control.writes import ControlTarget
from pypowerwall_server.gateway_state import GatewayState
from pypowerwall_server.hub import Hub
from pypowerwall_server.models import LegacyOptions
from pypowerwall_server.mqtt.commands import MqttCommands
from pypowerwall_server.mqtt.controls import BY_CONTROL, command_value, parse_command_topic
from pypowerwall_server.mqtt.devices import Topics
from pypowerwall_server.mqtt.options import MqttOptions
from pypowerwall_server.mqtt.publisher import MqttPublisher, mqtt_publisher
from pypowerwall_server.settings import GatewayConfig, ServerConfig, Settings
from tests.unit.control.fakes import FakeSupervisor, FakeWriter

TOPICS = Topics("pypowerwall", "homeassistant")
STATE = ControlState(50.0, "self_consumption", False, "battery_ok", 60.0, True)


class Setup:
    def __init__(self, transport: WriteTransport | None = WriteTransport.V1R) -> None:
        self.writer = FakeWriter()
        self.supervisor = FakeSupervisor(self.writer, STATE)
        self.audit = AuditTrail(50)
        targets = {"home": ControlTarget("home", "tedapi", transport)}
        service = ControlService(self.supervisor, targets, self.audit)
        self.answered: list[str] = []
        access = ControlAccess(
            service, self.audit, TokenGuard("secret"), FollowUps(self.supervisor)
        )
        self.commands = MqttCommands(access, TOPICS, ["home"], self.answered.append)

    def send(self, control: str, payload: bytes, retained: bool = False) -> None:
        self.commands.receive(f"pypowerwall/gateway/home/set/{control}", payload, retained)

    async def run_pending(self) -> None:
        """Run until every waiting command is answered (each is answered once)."""
        expected = len(self.answered) + len(self.commands.pending())
        task = asyncio.create_task(self.commands.run())
        try:
            async with asyncio.timeout(5):
                while len(self.answered) < expected:
                    await asyncio.sleep(0)
        finally:
            task.cancel()


@pytest.mark.parametrize(
    ("control", "payload", "value"),
    [
        (Control.RESERVE, b"80", 80),
        (Control.RESERVE, b"80.0", 80),  # Home Assistant's number may send a float
        (Control.RESERVE, b"101", 101),  # range is the control layer's to refuse
        (Control.RESERVE, b"1e2", "1e2"),
        (Control.GRID_CHARGING, b"ON", "true"),
        (Control.GRID_CHARGING, b"OFF", "false"),
        (Control.RESERVE_HOLD, b"PRESS", ""),
        (Control.DISPATCH, b"-2500", -2500),
        (Control.DISPATCH, b"3000.0", 3000),
        (Control.DISPATCH, b"3 kW", "3 kW"),
        (Control.RESUME, b"PRESS", ""),
        (Control.MODE, b" backup ", "backup"),
        (Control.MODE, b"\xff", b"\xff"),  # not UTF-8: stays bytes, which no parser takes
    ],
)
def test_payloads_become_the_control_layers_values(
    control: Control, payload: bytes, value: object
) -> None:
    assert command_value(BY_CONTROL[control], payload) == value


def test_command_topics_name_a_gateway_and_a_control() -> None:
    assert parse_command_topic(TOPICS, "pypowerwall/gateway/home/set/reserve") == (
        "home",
        "reserve",
    )
    assert parse_command_topic(TOPICS, "pypowerwall/gateway/home/state") is None
    assert parse_command_topic(TOPICS, "pypowerwall/gateway/home/set/reserve/x") is None
    assert parse_command_topic(TOPICS, "other/gateway/home/set/reserve") is None


async def test_a_valid_command_is_written_audited_as_mqtt_and_answered() -> None:
    setup = Setup()
    setup.send("reserve", b"35")
    await setup.run_pending()
    assert setup.writer.calls == [("set_reserve", (35,))]
    (entry,) = setup.audit.recent()
    assert (entry.client, entry.what, entry.new) == ("mqtt", "reserve", "35")
    assert setup.answered == ["home"]


async def test_bad_values_are_refused_audited_logged_escaped_and_never_sent(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="pypowerwall_server.mqtt")
    setup = Setup()
    bad = {
        "reserve": b"101",
        "mode": b"turbo",
        "grid_export": b"\x1b[31mnever\nforged line",
        "grid_charging": b"maybe",
        "reserve_hold": b"now",
    }
    for control, payload in bad.items():
        setup.send(control, payload)
    await setup.run_pending()
    assert setup.writer.calls == [] and setup.supervisor.submits == []
    entries = setup.audit.recent()
    assert len(entries) == len(bad)
    assert all(e.client == "mqtt" and e.result == "refused: invalid value" for e in entries)
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == len(bad)  # one line each
    assert all("\n" not in w and "\x1b" not in w for w in warnings)
    assert any("\\x1b[31mnever\\nforged line" in w for w in warnings)
    assert setup.answered == ["home"] * len(bad)  # each answered with the unchanged state


async def test_over_the_transports_cap_is_sent_as_pypowerwall_does() -> None:
    setup = Setup(WriteTransport.CLOUD)  # caps the reserve at 80 %: the answer says so
    setup.send("reserve", b"90")
    await setup.run_pending()
    assert setup.writer.calls != []
    assert not setup.audit.recent()[0].result.startswith("refused")


async def test_a_flood_keeps_only_the_newest_command_per_entity() -> None:
    setup = Setup()
    for percent in range(1000):
        setup.send("reserve", str(percent % 100).encode())
    setup.send("mode", b"backup")
    setup.send("reserve", b"42")
    assert len(setup.commands.pending()) == 2  # bounded by the entities, not the commands
    assert setup.commands.superseded == 1000
    await setup.run_pending()
    assert setup.writer.calls == [("set_mode", ("backup",)), ("set_reserve", (42,))]


async def test_retained_unknown_control_and_unknown_gateway_are_refused() -> None:
    setup = Setup()
    setup.send("reserve", b"30", retained=True)  # would run again after every reconnect
    setup.send("off_grid", b"true")  # not offered over MQTT
    setup.commands.receive("pypowerwall/gateway/elsewhere/set/reserve", b"30", False)
    await setup.run_pending()
    assert setup.writer.calls == [] and setup.commands.pending() == {}
    results = sorted(e.result for e in setup.audit.recent())  # the unknown gateway: no entry
    assert results == ["refused: not a control over MQTT", "refused: retained command"]


# --- which gateways get controls in discovery -----------------------------------------------
def discovery_controls(control: ControlAccess | None) -> dict[str, set[str]]:
    """Per gateway, the platforms of its command components as the publisher queues them."""
    states = [GatewayState(gid, gid, "tedapi", 1.0) for gid in ("home", "shed")]
    model = ReadModel(Hub(states, 3.0, lambda: 1000.0), LegacyOptions())
    names = {"home": "Home", "shed": "Shed"}
    publisher = MqttPublisher(MqttOptions(host="127.0.0.1"), model, names, control)
    publisher.queue_everything()
    found = {}
    for gid in names:
        config = orjson.loads(
            publisher.pending()[f"homeassistant/device/pypowerwall_gw_{gid}/config"].payload
        )
        found[gid] = {c["p"] for c in config["cmps"].values() if "command_topic" in c}
    return found


def access(guard: TokenGuard | None, home_unsafe: str | None = None) -> ControlAccess:
    targets = {
        "home": ControlTarget("home", "tedapi", WriteTransport.CLOUD, unsafe=home_unsafe),
        "shed": ControlTarget("shed", "local", None),  # read-only: nothing to offer
    }
    audit = AuditTrail(10)
    supervisor = FakeSupervisor(FakeWriter(), STATE)
    service = ControlService(supervisor, targets, audit)
    return ControlAccess(service, audit, guard, FollowUps(supervisor))


def test_controls_are_offered_only_where_control_is_on_and_the_gateway_can_write() -> None:
    every = {"number", "select", "switch", "button"}
    assert discovery_controls(access(TokenGuard("secret"))) == {"home": every, "shed": set()}
    assert discovery_controls(access(None)) == {"home": set(), "shed": set()}  # control off
    assert discovery_controls(None) == {"home": set(), "shed": set()}
    # a writer every write refuses (no siteid) offers nothing, as /api/control says
    unsafe = access(TokenGuard("secret"), home_unsafe="set siteid")
    assert discovery_controls(unsafe) == {"home": set(), "shed": set()}


@pytest.mark.parametrize("mqtt_control", [False, True])
def test_control_over_mqtt_is_its_own_opt_in(mqtt_control: bool) -> None:
    """Commands carry no token: control on for HTTP does not open the command topics."""
    server = ServerConfig(mqtt_host="127.0.0.1", mqtt_control=mqtt_control)
    gateways = (GatewayConfig(id="home", name="Home", host="127.0.0.1", gw_pwd=SecretStr("pw")),)
    model = ReadModel(Hub([GatewayState("home", "home", "tedapi", 1.0)], 3.0), LegacyOptions())
    publisher = mqtt_publisher(
        Settings(server=server, gateways=gateways), model, access(TokenGuard("s"))
    )
    assert publisher is not None
    assert (publisher.commands is not None) is mqtt_control


def test_the_dispatch_number_dispatches_for_its_fixed_time() -> None:
    row = BY_CONTROL[Control.DISPATCH]
    assert row.fields(command_value(row, b"-4000")) == {"power_w": -4000, "duration_s": 900}
    assert BY_CONTROL[Control.RESERVE].fields(40) == {"value": 40}
