"""Commands from the broker (`<prefix>/gateway/<id>/set/<control>`) handed to the control
layer (control/: validation, transport limits, the write, read-back, audit), one at a time.

Receiving never waits: a command is noted as the newest for its entity (gateway, control),
replacing an older one not yet run, so what waits is bounded by the number of entities and
a flood of commands costs nothing but the last. Every command is answered by queuing the
gateway's state again (its read-back, or the unchanged value after a refusal). A refusal
is audited (client `mqtt`) and logged as one escaped warning (at most one a minute per
entity; the audit keeps them all).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Collection

from pypowerwall_server.control.commands import Control
from pypowerwall_server.control.values import ReadCurrent, ValueInvalid, parse_control
from pypowerwall_server.control.wiring import ControlAccess
from pypowerwall_server.log_limit import RateLimitedLog
from pypowerwall_server.mqtt.controls import (
    BY_CONTROL,
    MAX_PAYLOAD_BYTES,
    command_value,
    parse_command_topic,
)
from pypowerwall_server.mqtt.devices import Topics
from pypowerwall_server.untrusted import printable

log = logging.getLogger(__name__)
AUDIT_CLIENT = "mqtt"


class MqttCommands:
    def __init__(
        self,
        control: ControlAccess,
        topics: Topics,
        gateway_ids: Collection[str],
        answer: Callable[[str], None],  # queue this gateway's state again
    ) -> None:
        self._control = control
        self._topics = topics
        self._gateway_ids = frozenset(gateway_ids)
        self._answer = answer
        self._pending: dict[tuple[str, Control], bytes] = {}  # entity → newest payload
        self._ready = asyncio.Event()
        self._refusals = RateLimitedLog(log)
        self.superseded = 0  # commands replaced by a newer one before they ran

    def pending(self) -> dict[tuple[str, Control], bytes]:
        return dict(self._pending)

    def receive(self, topic: str, payload: bytes, retained: bool) -> None:
        """Note a command (never waits); refuse at once what names no entity of ours."""
        parsed = parse_command_topic(self._topics, topic)
        if parsed is None:
            return
        gateway_id, name = parsed
        if gateway_id not in self._gateway_ids:
            self._warn("unknown", "MQTT: command for unknown gateway refused: %s", printable(topic))
            return
        control = next((c for c in BY_CONTROL if c.value == name), None)
        if control is None:
            self._refuse(
                gateway_id, name, payload, "not offered over MQTT", "not a control over MQTT"
            )
            return
        if retained and not payload:  # someone clearing a retained command: nothing to run
            return
        if retained:  # a retained command would run again after every reconnect
            self._refuse(
                gateway_id, name, payload, "a retained command is not run", "retained command"
            )
            return
        if (gateway_id, control) in self._pending:
            self.superseded += 1
        self._pending.pop((gateway_id, control), None)  # newest goes last: order of arrival
        self._pending[(gateway_id, control)] = payload
        self._ready.set()

    async def run(self) -> None:
        while True:
            await self._ready.wait()
            self._ready.clear()
            while self._pending:
                (gateway_id, control), payload = next(iter(self._pending.items()))
                del self._pending[(gateway_id, control)]
                try:
                    await self.execute(gateway_id, control, payload)
                except Exception:  # a bug in one write must not end control over MQTT
                    log.exception("MQTT: %s of gateway %s failed", control.value, gateway_id)
                finally:
                    self._answer(gateway_id)

    async def execute(self, gateway_id: str, control: Control, payload: bytes) -> None:
        row = BY_CONTROL[control]
        parsed = parse_control(control.value, row.fields(command_value(row, payload)))
        if isinstance(parsed, ReadCurrent):
            self._refuse(gateway_id, control.value, payload, "a value is required")
            return
        if isinstance(parsed, ValueInvalid):
            self._refuse(gateway_id, control.value, payload, parsed.detail)
            return
        answer = await self._control.service.write(gateway_id, AUDIT_CLIENT, parsed)
        if answer.status != 200:
            reason = answer.body.get("detail") or answer.body.get("error")
            self._warn(
                f"{gateway_id}/{control.value}",
                "MQTT: %s of gateway %s not applied: %s",
                control.value,
                gateway_id,
                printable(reason),
            )

    def _refuse(
        self,
        gateway_id: str,
        name: str,
        payload: bytes,
        reason: str,
        result: str = "invalid value",
    ) -> None:
        shown = _shown(payload)
        self._control.service.refuse(
            gateway_id, AUDIT_CLIENT, printable(name), shown, f"refused: {result}"
        )
        self._warn(
            f"{gateway_id}/{name if result == 'invalid value' else result}",  # bounded keys
            "MQTT: %s=%s for gateway %s refused: %s",
            printable(name),
            shown,
            gateway_id,
            reason,
        )

    def _warn(self, key: str, message: str, *args: object) -> None:
        self._refusals.log(logging.WARNING, key, message, *args)


def _shown(payload: bytes) -> str:
    """The payload as a log or the audit may show it: escaped and short."""
    text = payload[:MAX_PAYLOAD_BYTES].decode("utf-8", "backslashreplace")
    return printable(text, MAX_PAYLOAD_BYTES) + ("…" if len(payload) > MAX_PAYLOAD_BYTES else "")
