"""Limits per write transport: read-only gateways (409 naming what to configure), v1r-only
controls, the cloud's and FleetAPI's 80 % reserve cap."""

from __future__ import annotations

import pytest

from pypowerwall_server.control.commands import (
    CancelMaxBackup,
    Combined,
    Command,
    Control,
    DispatchBattery,
    ExportRule,
    GoOffGrid,
    HoldReserve,
    OperatingMode,
    ReconnectGrid,
    ResumeBattery,
    ScheduleMaxBackup,
    SetGridCharging,
    SetGridExport,
    SetMode,
    SetOperation,
    SetReserve,
)
from pypowerwall_server.control.limits import (
    NotOnTransport,
    NoWritePath,
    WriteTransport,
    check_command,
    reserve_cap,
    supported_controls,
)

V1R, CLOUD, FLEET = WriteTransport.V1R, WriteTransport.CLOUD, WriteTransport.FLEETAPI
BACKUP = OperatingMode.BACKUP

EVERYWHERE = [
    SetReserve(0),
    SetReserve(80),
    SetMode(BACKUP),
    SetOperation(20, BACKUP),
    SetGridCharging(True),
    SetGridExport(ExportRule.NEVER),
    HoldReserve(),
    Combined(80, BACKUP, ExportRule.PV_ONLY),
]
V1R_ONLY = [
    ScheduleMaxBackup(3600),
    CancelMaxBackup(),
    GoOffGrid(),
    ReconnectGrid(),
    DispatchBattery(3000, 60),
    ResumeBattery(),
]


@pytest.mark.parametrize("transport", [V1R, CLOUD, FLEET])
@pytest.mark.parametrize("command", EVERYWHERE)
def test_every_transport_carries_the_common_commands(
    transport: WriteTransport, command: Command
) -> None:
    assert check_command("home", "tedapi", transport, command) is None


@pytest.mark.parametrize("command", [*V1R_ONLY, SetReserve(100), SetOperation(95, BACKUP)])
def test_v1r_carries_everything(command: Command) -> None:
    assert check_command("home", "tedapi", V1R, command) is None


@pytest.mark.parametrize("transport", [CLOUD, FLEET])
@pytest.mark.parametrize("command", V1R_ONLY)
def test_max_backup_and_contactor_need_v1r(transport: WriteTransport, command: Command) -> None:
    refusal = check_command("home", "tedapi", transport, command)
    assert isinstance(refusal, NotOnTransport)
    assert "needs the v1r transport" in refusal.message
    assert "rsa_key_path" in refusal.message


@pytest.mark.parametrize(
    ("transport", "command", "label"),
    [
        (CLOUD, SetReserve(81), "the Tesla cloud"),
        (CLOUD, SetReserve(100), "the Tesla cloud"),
        (FLEET, SetReserve(100), "FleetAPI"),
        (FLEET, SetOperation(90, BACKUP), "FleetAPI"),
        (CLOUD, Combined(85, None, None), "the Tesla cloud"),
    ],
)
def test_cloud_and_fleetapi_cap_the_reserve_at_80(
    transport: WriteTransport, command: Command, label: str
) -> None:
    assert check_command("home", "tedapi", transport, command) is None  # sent, as pypowerwall
    note = reserve_cap(transport, command)
    assert note is not None and note.startswith(f"{label} caps the backup reserve at 80 %")
    assert "needs the v1r transport" in note
    assert reserve_cap(WriteTransport.V1R, command) is None


@pytest.mark.parametrize("read_mode", ["tedapi", "local"])
@pytest.mark.parametrize("command", EVERYWHERE + V1R_ONLY[:4])
def test_a_read_only_gateway_names_what_to_configure(read_mode: str, command: Command) -> None:
    refusal = check_command("garage", read_mode, None, command)
    assert isinstance(refusal, NoWritePath)
    assert f"gateway 'garage' has no write transport: it is read over {read_mode}" in (
        refusal.message
    )
    for hint in ("control_transport", "rsa_key_path", "email and authpath", "FleetAPI"):
        assert hint in refusal.message


def test_supported_controls_per_transport() -> None:
    assert supported_controls(None) == frozenset()
    assert supported_controls(V1R) == frozenset(Control)
    v1r_only = {Control.MAX_BACKUP, Control.OFF_GRID, Control.RECONNECT}
    expected = frozenset(Control) - v1r_only - {Control.DISPATCH, Control.RESUME}
    assert supported_controls(CLOUD) == expected
    assert supported_controls(FLEET) == expected


@pytest.mark.parametrize("command", [DispatchBattery(3000, 60), ResumeBattery()])
@pytest.mark.parametrize(
    ("transport", "read_mode", "said"),
    [
        (None, "tedapi", "is read-only"),
        (None, "local", "is read-only"),
        (CLOUD, "cloud", "writes through the Tesla cloud"),
        (FLEET, "fleetapi", "writes through FleetAPI"),
    ],
)
def test_dispatch_is_refused_off_v1r_naming_v1r(
    command: Command, transport: WriteTransport | None, read_mode: str, said: str
) -> None:
    refusal = check_command("garage", read_mode, transport, command)
    assert isinstance(refusal, NotOnTransport)
    assert "needs the v1r transport" in refusal.message
    assert f"read over {read_mode} and {said}" in refusal.message
