"""The MQTT publisher: hub changes → device states on the broker, with Home Assistant
discovery (devices.py, discovery.py).

QoS and retain per topic:
- `<prefix>/status` (server LWT, "online"/"offline"): QoS 1, retained.
- `<prefix>/gateway/<id>/availability` ("online" while the data is fresh): QoS 1, retained.
- discovery configs: QoS 1, retained; an empty retained config removes a departed gateway.
- states: QoS 0, not retained (a new one comes every poll; Home Assistant gets all of them
  again when it announces itself on `<discovery_prefix>/status`).

Controls (when control is on): the gateways' command topics `<prefix>/gateway/<id>/set/<control>`
are subscribed (QoS 1) and each command handed to commands.py, which runs it through the
control layer and answers by queuing the gateway's state again. Control off: no command
components in discovery and no subscription.

Three loops: `_watch` notes which gateways changed (hub.updates(), which never waits for a
slow subscriber); `_produce` turns changes and freshness deadlines into messages in the
outbox, one per topic, newest wins (so it is bounded by the number of topics); `_send`
drains the outbox while connected. Discovery, availability and every state are queued again
after each (re)connect and when Home Assistant comes online. The broker being down is
logged once, its recovery once; reconnects back off.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import aiomqtt
import orjson
from paho.mqtt.subscribeoptions import SubscribeOptions

from pypowerwall_server.answers import ReadModel
from pypowerwall_server.backoff import Backoff
from pypowerwall_server.control.wiring import ControlAccess
from pypowerwall_server.gateway_state import GatewayState
from pypowerwall_server.metrics import (
    BATTERY_METRICS,
    GATEWAY_METRICS,
    SITE_METRICS,
    CounterGuard,
    gateway_view,
    site_view,
    values_of,
)
from pypowerwall_server.mqtt.commands import MqttCommands
from pypowerwall_server.mqtt.controls import MqttControl, command_wildcard, offered
from pypowerwall_server.mqtt.devices import (
    Device,
    Topics,
    battery_device,
    gateway_device,
    site_device,
    state_payload,
)
from pypowerwall_server.mqtt.discovery import ORIGIN, discovery_config
from pypowerwall_server.mqtt.events import (
    COMPONENT_KEY,
    EVENT_QOS,
    event_component,
    event_messages,
)
from pypowerwall_server.mqtt.options import MqttOptions, expire_after, mqtt_options
from pypowerwall_server.settings import Settings

if TYPE_CHECKING:
    from pypowerwall_server.events.service import EventService

log = logging.getLogger(__name__)
EVENT_BACKLOG = 256  # events kept while the broker is away (oldest dropped)
PUBLISH_TIMEOUT_S = 10.0
COALESCE_S = 0.02
# Publishes handed to the client at once. aiomqtt walks every pending call on each publish
# (and warns past its threshold), so a batch of 1,500 states given all at once took 1.1-2.7 s
# here where 64 at a time took 0.5-0.7 s (BENCHMARKS.md, MQTT at 500 gateways).
IN_FLIGHT = 64
# The site total changes with every gateway's poll (100 times a second at 500 gateways) and
# costs a pass over all of them: it goes out at most this often, its newest value last.
SITE_EVERY_S = 1.0
ONLINE, OFFLINE = b"online", b"offline"


@dataclass(frozen=True, slots=True)
class Outgoing:
    payload: bytes
    qos: int
    retain: bool


class MqttPublisher:
    def __init__(
        self,
        options: MqttOptions,
        model: ReadModel,
        gateway_names: Mapping[str, str],
        control: ControlAccess | None = None,
    ) -> None:
        self.options = options
        self.model = model
        self.hub = model.hub
        self.topics = Topics(options.prefix, options.discovery_prefix)
        self.gateways = {
            gid: gateway_device(self.topics, gid, name) for gid, name in gateway_names.items()
        }
        self.site = site_device(self.topics) if len(self.gateways) > 1 else None
        self.batteries: dict[str, Device] = {}  # by node, as the gateways report them
        self.guard = CounterGuard()
        self.connected = False
        self.published = 0
        self._outbox: dict[str, Outgoing] = {}  # topic → newest message
        self._outbox_ready = asyncio.Event()
        self._changed: set[str] = set()
        self._wake = asyncio.Event()
        self._available: dict[str, bool] = {}  # as last queued, per gateway
        self._queued_states: dict[str, GatewayState] = {}  # as last queued, per gateway
        self._site_pending = False  # a gateway changed since the site state was queued
        self._site_due = float("-inf")  # when the site state may go out again
        self.commands: MqttCommands | None = None  # None: control is off
        self.events: EventService | None = None  # set by the app: events on their topics
        self._event_outbox: deque[tuple[str, bytes]] = deque(maxlen=EVENT_BACKLOG)
        self.controls: dict[str, tuple[MqttControl, ...]] = {}  # offered, per gateway
        if control is not None and control.enabled:
            self.commands = MqttCommands(control, self.topics, self.gateways, self.answer)
            self.controls = {gid: offered(control.offered(gid)) for gid in self.gateways}

    # --- the task ---------------------------------------------------------------------
    async def run(self) -> None:
        async with asyncio.TaskGroup() as group:
            group.create_task(self._watch(), name="mqtt-watch")
            group.create_task(self._produce(), name="mqtt-produce")
            group.create_task(self._connect_forever(), name="mqtt-connection")
            if self.commands is not None:
                group.create_task(self.commands.run(), name="mqtt-commands")
            if self.events is not None:
                group.create_task(self._forward_events(self.events), name="mqtt-events")

    async def _forward_events(self, events: EventService) -> None:
        """Every event, in order (unlike states, none supersedes another)."""
        while True:
            with events.listen() as listener:
                while not listener.overflowed.is_set():
                    event = await listener.queue.get()
                    self._event_outbox.extend(event_messages(self.topics, event))
                    self._outbox_ready.set()

    async def _watch(self) -> None:
        # A poll round of every gateway fits in the queue: no re-welcome under normal load.
        async for state in self.hub.updates(maxsize=max(16, 2 * len(self.gateways))):
            self._changed.add(state.gateway_id)
            self._wake.set()

    async def _produce(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._next_deadline())
                # Gateways polled on one clock tick publish within milliseconds of each
                # other: take them together (each round costs a pass over every gateway).
                await asyncio.sleep(COALESCE_S)
            self._wake.clear()
            changed, self._changed = self._changed, set()
            self.queue_changes(changed)

    # --- what goes out ----------------------------------------------------------------
    def _queue(self, topic: str, payload: bytes, qos: int = 0, retain: bool = False) -> None:
        self._outbox[topic] = Outgoing(payload, qos, retain)
        self._outbox_ready.set()

    def queue_everything(self) -> None:
        """Status, every discovery config, availability and state (after a connect, or
        when Home Assistant comes online). What was waiting is superseded, except removals."""
        waiting, self._outbox = self._outbox, {}
        self._queue(self.topics.status, ONLINE, 1, True)
        for device in self._devices():
            self._queue_discovery(device)
        self._available.clear()
        self._queued_states.clear()
        self._site_due = float("-inf")  # a welcome includes the site state, now
        self.queue_changes(self.gateways)
        for topic, message in waiting.items():
            if message.retain and not message.payload:  # a removal of a departed device
                self._outbox.setdefault(topic, message)

    def take_batch(self) -> dict[str, Outgoing]:
        """Everything waiting, in order; the outbox starts over."""
        batch, self._outbox = self._outbox, {}
        return batch

    def pending(self) -> dict[str, Outgoing]:
        """What waits to be sent, by topic (a copy)."""
        return dict(self._outbox)

    def _devices(self) -> Iterable[Device]:
        yield from self.gateways.values()
        yield from self.batteries.values()
        if self.site is not None:
            yield self.site

    def _queue_discovery(self, device: Device) -> None:
        gid = device.gateway_id
        controls = self.controls.get(gid, ()) if device.kind == "gateway" and gid else ()
        config = discovery_config(device, self.topics, self._expire_after(device), controls)
        if self.events is not None and device.kind == "gateway":
            config["cmps"][COMPONENT_KEY] = event_component(device, self.topics)
        self._queue(self.topics.config(device.node), orjson.dumps(config), 1, True)

    def queue_changes(self, changed: Iterable[str]) -> None:
        """Availability of every gateway, and the states of those that changed."""
        now = self.hub.clock()
        for gid in self.gateways:
            fresh = self.hub.is_fresh(self.hub.get(gid), now)
            if self._available.get(gid) != fresh:
                self._available[gid] = fresh
                self._queue(self.topics.availability(gid), ONLINE if fresh else OFFLINE, 1, True)
        any_changed = False
        for gid in changed:
            any_changed = True
            if self._available.get(gid):  # stale data is not published as a state
                self._queue_gateway(gid, now)
        if any_changed and self.site is not None:
            self._site_pending = True
        if self._site_pending and now >= self._site_due:
            self._site_pending = False
            self._site_due = now + SITE_EVERY_S
            self._queue_site(now)

    def answer(self, gid: str) -> None:
        """A command's answer: the gateway's state (its read-back) again, even unchanged."""
        self._queued_states.pop(gid, None)
        self.queue_changes((gid,))

    def _queue_gateway(self, gid: str, now: float) -> None:
        device, state = self.gateways[gid], self.hub.get(gid)
        if self._queued_states.get(gid) is state:
            return  # told again (a subscriber welcomed back): nothing new
        self._queued_states[gid] = state
        taken_at = state.snapshot.taken_at if state.snapshot is not None else None
        view = gateway_view(state, now)
        values = values_of(GATEWAY_METRICS, view, gid, self.guard)
        self._queue(device.state_topic, state_payload(GATEWAY_METRICS, view, values, taken_at))
        for index, unit in enumerate(view.readings.batteries):
            battery = battery_device(self.topics, device, index, unit)
            if battery.node not in self.batteries:
                self.batteries[battery.node] = battery
                self._queue_discovery(battery)
            values = values_of(BATTERY_METRICS, unit, battery.node, None)
            payload = state_payload(BATTERY_METRICS, unit, values, taken_at)
            self._queue(battery.state_topic, payload)

    def _queue_site(self, now: float) -> None:
        assert self.site is not None
        totals = self.model.totals()
        views = [gateway_view(state, now) for state in totals.states]
        view = site_view(totals.power, totals.soe, views, all(totals.fresh))
        values = values_of(SITE_METRICS, view, self.site.node, self.guard)
        self._queue(self.site.state_topic, state_payload(SITE_METRICS, view, values))

    def _expire_after(self, device: Device) -> int:
        server = self.model.freshness.stale_after_intervals
        gids = [device.gateway_id] if device.gateway_id else list(self.gateways)
        return max(
            expire_after(server, self.hub.get(gid).interval, self.options.min_interval)
            for gid in gids
        )

    def _next_deadline(self) -> float | None:
        """Seconds until a gateway turns stale or a waiting site state is due."""
        stale = self._until_a_gateway_turns_stale()
        if not self._site_pending:
            return stale
        site = max(0.01, self._site_due - self.hub.clock())
        return site if stale is None else min(stale, site)

    def _until_a_gateway_turns_stale(self) -> float | None:
        now = self.hub.clock()
        deadlines = [
            self.model.freshness.fresh_until(self.hub.get(gid)) - now
            for gid, fresh in self._available.items()
            if fresh
        ]
        return max(0.01, min(deadlines) + 0.01) if deadlines else None

    # --- departed gateways --------------------------------------------------------------
    def _note_retained_config(self, topic: str, payload: bytes) -> None:
        """A discovery config on the broker: if it is ours and its gateway (or the site
        total) is no longer configured, clear it (an empty retained config removes it)."""
        node = topic.split("/")[-2]
        if not payload or not node.startswith(f"{self.options.prefix}_"):
            return
        if any(node == device.node for device in self._devices()):
            return
        try:
            config = orjson.loads(payload)
        except orjson.JSONDecodeError:
            return
        if not isinstance(config, dict) or config.get("o", {}).get("name") != ORIGIN["name"]:
            return
        state_topic = str(config.get("state_topic", ""))
        gid = self.topics.gateway_of_state_topic(state_topic)
        departed_site = self.site is None and state_topic == self.topics.site_state
        if departed_site or (gid is not None and gid not in self.gateways):
            log.info("MQTT: removing discovery of departed device %s", node)
            self._queue(topic, b"", 1, True)

    # --- the connection -----------------------------------------------------------------
    async def _connect_forever(self) -> None:
        backoff, down = Backoff(*self.options.reconnect_backoff), False
        where = f"{self.options.host}:{self.options.port}"
        while True:
            try:
                async with self._client() as client:
                    self.connected = True
                    backoff.reset()
                    log.info(
                        "MQTT: %s broker %s", "reconnected to" if down else "connected to", where
                    )
                    down = False
                    await self._serve(client)
            except aiomqtt.MqttError as exc:
                current = asyncio.current_task()
                if current is not None and current.cancelling():
                    # Shutting down: aiomqtt reported our own cancellation as a lost
                    # connection; reconnecting now would swallow it and hold the shutdown.
                    raise asyncio.CancelledError from exc
                if not down:
                    log.warning("MQTT: broker %s unavailable (%s); retrying", where, exc)
                down = True
            finally:
                self.connected = False
            await asyncio.sleep(backoff.next_delay())

    def _client(self) -> aiomqtt.Client:
        options = self.options
        tls = ssl.create_default_context(cafile=options.ca_file) if options.tls else None
        client = aiomqtt.Client(
            options.host,
            options.port,
            username=options.username,
            password=options.password,
            identifier=options.client_id,
            will=aiomqtt.Will(self.topics.status, OFFLINE, qos=1, retain=True),
            tls_context=tls,
            timeout=PUBLISH_TIMEOUT_S,
            keepalive=30,
            protocol=aiomqtt.ProtocolVersion.V5,  # for retain-as-published on commands
        )
        client.pending_calls_threshold = IN_FLIGHT + 8  # a few subscribes beside: no warning
        return client

    async def _serve(self, client: aiomqtt.Client) -> None:
        await client.subscribe(self.topics.homeassistant_status, qos=1)
        await client.subscribe(self.topics.discovery_wildcard, qos=1)
        if self.commands is not None:
            # MQTT 3.1.1 clears the retain flag on live delivery; MQTT 5 can keep it, so a
            # command published retained is refused live too, not only when replayed.
            keep_flag = SubscribeOptions(qos=1, retainAsPublished=True)
            await client.subscribe(command_wildcard(self.topics), options=keep_flag)
        self.queue_everything()
        sender = asyncio.create_task(self._send(client), name="mqtt-send")
        listener = asyncio.create_task(self._listen(client), name="mqtt-listen")
        try:
            done, _ = await asyncio.wait((sender, listener), return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                task.result()  # raises what ended it (a lost connection: MqttError)
        except asyncio.CancelledError:
            await self._say_offline(client)
            raise
        finally:
            for task in (sender, listener):
                task.cancel()
            await asyncio.gather(sender, listener, return_exceptions=True)

    async def _say_offline(self, client: aiomqtt.Client) -> None:
        """A clean disconnect does not fire the LWT: say it ourselves when shutting down."""
        with contextlib.suppress(aiomqtt.MqttError, TimeoutError):
            await client.publish(self.topics.status, OFFLINE, qos=1, retain=True, timeout=2.0)

    async def _send(self, client: aiomqtt.Client) -> None:
        while True:
            await self._outbox_ready.wait()
            self._outbox_ready.clear()
            batch = self.take_batch()
            await self._send_events(client)
            # IN_FLIGHT at a time, in order (each hands its packet to the client when it
            # starts): one at a time, each waiting for its packet to be written, 300 states
            # took 1 s; all at once costs the client a walk over every pending call each.
            window = asyncio.Semaphore(IN_FLIGHT)
            outcomes = await asyncio.gather(
                *(self._publish(client, t, m, window) for t, m in batch.items()),
                return_exceptions=True,
            )
            failures = [o for o in outcomes if isinstance(o, BaseException)]
            for (topic, message), outcome in zip(batch.items(), outcomes, strict=True):
                if isinstance(outcome, BaseException):
                    self._outbox.setdefault(topic, message)  # unless something newer came
            self.published += len(outcomes) - len(failures)
            if failures:
                raise failures[0]
            if self.options.min_interval > 0:
                await asyncio.sleep(self.options.min_interval)

    async def _send_events(self, client: aiomqtt.Client) -> None:
        """Waiting events, oldest first; one that fails stays first in line."""
        while self._event_outbox:
            topic, payload = self._event_outbox[0]
            await client.publish(topic, payload, qos=EVENT_QOS, timeout=PUBLISH_TIMEOUT_S)
            self._event_outbox.popleft()
            self.published += 1

    @staticmethod
    async def _publish(
        client: aiomqtt.Client, topic: str, message: Outgoing, window: asyncio.Semaphore
    ) -> None:
        async with window:
            await client.publish(
                topic,
                message.payload,
                qos=message.qos,
                retain=message.retain,
                timeout=PUBLISH_TIMEOUT_S,
            )

    async def _listen(self, client: aiomqtt.Client) -> None:
        async for message in client.messages:
            topic = str(message.topic)
            payload = message.payload if isinstance(message.payload, bytes) else b""
            if topic == self.topics.homeassistant_status:
                if payload == ONLINE:
                    log.info("MQTT: Home Assistant is online; publishing discovery and state")
                    self.queue_everything()
            elif message.topic.matches(self.topics.discovery_wildcard):
                self._note_retained_config(topic, payload)
            elif self.commands is not None:
                self.commands.receive(topic, payload, message.retain)


def mqtt_publisher(
    settings: Settings, model: ReadModel, control: ControlAccess | None = None
) -> MqttPublisher | None:
    """The publisher for these settings, or None when no broker is configured; with
    controls when `control` is on and mqtt_control allows them."""
    options = mqtt_options(settings)
    if options is None:
        return None
    names = {g.id: g.name for g in settings.gateways}
    # Commands carry no token: MQTT control is its own opt-in on top of control.
    offered_control = control if settings.server.mqtt_control else None
    return MqttPublisher(options, model, names, offered_control)
