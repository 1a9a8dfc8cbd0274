"""What a signed v1r request asks of the gateway, once its signature checked out
(v1r_auth.py), and the MessageEnvelope the gateway answers with.

pypowerwall 0.22 sends three kinds of inner message over v1r:
- `filestore` (tedapi_combined): read config.json (`readFileRequest`, answered with the
  blob and its hash) and write it back (`updateFileRequest`, read-modify-write guarded by
  that hash). A write changes the site: reserve, mode, grid charging, export rule.
- `teg` (tedapi_combined): island mode (6 + force = off grid, 1 = reconnect), manual backup
  events (storm watch / max backup), battery dispatch (`real_power` for a duration, or
  `resume_device_mode`), acknowledged with an empty dispatch_battery_power_response.
- anything else is a TEDAPI query envelope (status, controller, components, firmware),
  answered exactly as over Wi-Fi TEDAPI, without the outer Message/tail.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from typing import Any, Protocol, get_args

from google.protobuf.message import DecodeError
from pypowerwall.tedapi.protobuf.V2024_06 import tedapi_combined_pb2 as combined_pb2

from pypowerwall_server.simulator.state import ExportRule, OperatingMode, SiteState
from pypowerwall_server.simulator.tedapi_config import config_json

CONFIG_FILE = "config.json"
ISLAND_OFF_GRID = 6
ISLAND_RECONNECT = 1
ISLAND_OK = 1  # the result pypowerwall logs as success
CODE_INVALID_ARGUMENT = 3
CODE_FAILED_PRECONDITION = 9
CODE_UNIMPLEMENTED = 12  # pypowerwall: "not supported by gateway firmware"
AUTHORIZED_CLIENT = 1
MAX_DISPATCH_SECONDS = 24 * 3600


@dataclass(frozen=True, slots=True)
class ManualBackup:
    start_time: int  # epoch seconds, as the client sent it
    duration_seconds: int
    priority: int


class SiteControls(Protocol):
    """What v1r may read and change on the simulated gateway."""

    def state(self) -> SiteState: ...
    def set_operation(
        self, mode: OperatingMode | None, reserve_raw_percent: float | None
    ) -> None: ...
    def set_grid_charging(self, enabled: bool) -> None: ...
    def set_export_rule(self, rule: ExportRule) -> None: ...
    def set_grid_up(self, up: bool) -> None: ...
    def set_manual_backup(self, event: ManualBackup | None) -> None: ...
    def manual_backup(self) -> ManualBackup | None: ...
    def set_dispatch(self, power_w: float | None, duration_s: float = 0.0) -> None: ...


class NotV1rCommand(Exception):
    """The envelope is neither filestore nor TEG: a TEDAPI query."""


def config_blob(site: SiteState) -> tuple[bytes, bytes]:
    """config.json as the file store holds it, and its hash (the write guard)."""
    blob = json.dumps(config_json(site), separators=(",", ":")).encode()
    return blob, hashlib.sha256(blob).digest()


def handle_command(inner: bytes, controls: SiteControls) -> bytes:
    """The answer envelope for a filestore or TEG request; NotV1rCommand for queries."""
    envelope = combined_pb2.MessageEnvelope()
    try:
        envelope.ParseFromString(inner)
    except DecodeError as exc:
        raise NotV1rCommand(str(exc)) from exc
    if envelope.HasField("filestore"):
        return _filestore(envelope, controls)
    if envelope.HasField("teg"):
        return _teg(envelope, controls)
    raise NotV1rCommand("query")


def _reply(request: combined_pb2.MessageEnvelope, site: SiteState) -> combined_pb2.MessageEnvelope:
    reply = combined_pb2.MessageEnvelope()
    reply.deliveryChannel = request.deliveryChannel
    reply.sender.din = site.gateway_din
    reply.recipient.authorizedClient = AUTHORIZED_CLIENT
    return reply


def _error(request: combined_pb2.MessageEnvelope, site: SiteState, code: int, text: str) -> bytes:
    reply = _reply(request, site)
    reply.common.error_response.status.code = code
    reply.common.error_response.status.message = text
    return bytes(reply.SerializeToString())


def _filestore(request: combined_pb2.MessageEnvelope, controls: SiteControls) -> bytes:
    site = controls.state()
    store = request.filestore
    which = store.WhichOneof("message")
    if which == "readFileRequest":
        read = store.readFileRequest
        if not _is_config(read.domain, read.name):
            return _error(request, site, CODE_INVALID_ARGUMENT, f"no file {read.name!r}")
        blob, digest = config_blob(site)
        reply = _reply(request, site)
        reply.filestore.readFileResponse.file.name = CONFIG_FILE
        reply.filestore.readFileResponse.file.blob = blob
        reply.filestore.readFileResponse.hash = digest
        return bytes(reply.SerializeToString())
    if which == "updateFileRequest":
        update = store.updateFileRequest
        if not _is_config(update.domain, update.file.name):
            return _error(request, site, CODE_INVALID_ARGUMENT, f"no file {update.file.name!r}")
        _, digest = config_blob(site)
        if bytes(update.hash) != digest:
            return _error(request, site, CODE_FAILED_PRECONDITION, "config.json changed")
        try:
            apply_config(bytes(update.file.blob), site, controls)
        except ValueError as exc:
            return _error(request, site, CODE_INVALID_ARGUMENT, str(exc))
        blob, digest = config_blob(controls.state())
        reply = _reply(request, site)
        reply.filestore.updateFileResponse.file.name = CONFIG_FILE
        reply.filestore.updateFileResponse.hash = digest
        return bytes(reply.SerializeToString())
    return _error(request, site, CODE_UNIMPLEMENTED, f"filestore {which} not supported")


def _is_config(domain: int, name: str) -> bool:
    return domain == combined_pb2.FILE_STORE_API_DOMAIN_CONFIG_JSON and name == CONFIG_FILE


@dataclass(frozen=True, slots=True)
class ConfigChange:
    mode: OperatingMode | None = None
    reserve_raw_percent: float | None = None
    grid_charging: bool | None = None
    export_rule: ExportRule | None = None


def config_change(blob: bytes, site: SiteState) -> ConfigChange:
    """The settings a written config.json changes, validated all at once (ValueError
    names the first bad field; nothing is applied then)."""
    try:
        document = json.loads(blob)
    except ValueError as exc:
        raise ValueError(f"config.json is not JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise ValueError("config.json must be an object")
    info = document.get("site_info")
    info = info if isinstance(info, dict) else {}
    mode = document.get("default_real_mode", site.operating_mode)
    if mode not in get_args(OperatingMode):
        raise ValueError(f"default_real_mode {mode!r} unknown")
    reserve = info.get("backup_reserve_percent", site.backup_reserve_raw_percent)
    if not _is_number(reserve) or not 0 <= reserve <= 100:
        raise ValueError(f"site_info.backup_reserve_percent {reserve!r} out of 0-100")
    disallow = info.get("disallow_charge_from_grid_with_solar_installed", not site.grid_charging)
    if not isinstance(disallow, bool):
        raise ValueError("disallow_charge_from_grid_with_solar_installed must be a boolean")
    rule = info.get("customer_preferred_export_rule", site.export_rule)
    if rule not in get_args(ExportRule):
        raise ValueError(f"customer_preferred_export_rule {rule!r} unknown")
    return ConfigChange(
        mode=mode if mode != site.operating_mode else None,
        reserve_raw_percent=(
            float(reserve) if float(reserve) != site.backup_reserve_raw_percent else None
        ),
        grid_charging=(not disallow) if (not disallow) != site.grid_charging else None,
        export_rule=rule if rule != site.export_rule else None,
    )


def apply_config(blob: bytes, site: SiteState, controls: SiteControls) -> None:
    change = config_change(blob, site)
    if change.mode is not None or change.reserve_raw_percent is not None:
        controls.set_operation(change.mode, change.reserve_raw_percent)
    if change.grid_charging is not None:
        controls.set_grid_charging(change.grid_charging)
    if change.export_rule is not None:
        controls.set_export_rule(change.export_rule)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _teg(request: combined_pb2.MessageEnvelope, controls: SiteControls) -> bytes:
    site = controls.state()
    teg = request.teg
    which = teg.WhichOneof("message")
    reply = _reply(request, site)
    if which == "setIslandModeRequest":
        island = teg.setIslandModeRequest
        if island.mode == ISLAND_OFF_GRID and island.force:
            controls.set_grid_up(False)
        elif island.mode == ISLAND_RECONNECT:
            controls.set_grid_up(True)
        # mode 6 without force is acknowledged and does nothing, as on a real gateway
        reply.teg.setIslandModeResponse.result = ISLAND_OK
    elif which == "schedule_manual_backup_event_request":
        info = teg.schedule_manual_backup_event_request.scheduling_info
        controls.set_manual_backup(
            ManualBackup(info.start_time.seconds, info.duration_seconds, info.priority)
        )
        reply.teg.schedule_manual_backup_event_response.SetInParent()
    elif which == "cancel_manual_backup_event_request":
        controls.set_manual_backup(None)
        reply.teg.cancel_manual_backup_event_response.SetInParent()
    elif which == "get_backup_events_request":
        events = reply.teg.get_backup_events_response
        events.SetInParent()
        if (event := controls.manual_backup()) is not None:
            info = events.manual_backup_event.scheduling_info
            info.start_time.seconds = event.start_time
            info.duration_seconds = event.duration_seconds
            info.priority = event.priority
    elif which == "dispatch_battery_power_request":
        problem = _dispatch(teg.dispatch_battery_power_request, controls)
        if problem is not None:
            return _error(request, site, CODE_INVALID_ARGUMENT, problem)
        reply.teg.dispatch_battery_power_response.SetInParent()
    else:
        return _error(request, site, CODE_UNIMPLEMENTED, f"TEG {which} not supported")
    return bytes(reply.SerializeToString())


def _dispatch(request: Any, controls: SiteControls) -> str | None:
    """Apply a dispatch or a resume; a message when the request is neither or out of range
    (the gateway's uint32 duration; pypowerwall sends 1 s to a day)."""
    if request.HasField("resume_device_mode"):
        controls.set_dispatch(None)
        return None
    if not request.HasField("real_power"):
        return "dispatch needs real_power or resume_device_mode"
    power, seconds = request.real_power.power_watts, request.real_power.duration_seconds
    if not math.isfinite(power) or not 1 <= seconds <= MAX_DISPATCH_SECONDS:
        return f"dispatch of {power} W for {seconds} s out of range"
    controls.set_dispatch(power, float(seconds))
    return None
