"""Which pypowerwall 0.22.2 calls carry each command, and how their return values read
(shapes taken from the library's source per transport)."""

from __future__ import annotations

import pytest

from pypowerwall_server.control.commands import (
    CancelMaxBackup,
    Combined,
    Command,
    ExportRule,
    GoOffGrid,
    HoldReserve,
    OperatingMode,
    ReconnectGrid,
    ScheduleMaxBackup,
    SetGridCharging,
    SetGridExport,
    SetMode,
    SetOperation,
    SetReserve,
)
from pypowerwall_server.control.operations import call_failure, library_calls
from tests.unit.control.fakes import FakeWriter

BACKUP, NEVER = OperatingMode.BACKUP, ExportRule.NEVER


@pytest.mark.parametrize(
    ("command", "sent"),
    [
        (SetReserve(20), [("set_reserve", (20,))]),
        (SetMode(BACKUP), [("set_mode", ("backup",))]),
        (SetOperation(35, BACKUP), [("set_operation", (35, "backup"))]),
        (SetGridCharging(False), [("set_grid_charging", (False,))]),
        (SetGridExport(ExportRule.PV_ONLY), [("set_grid_export", ("pv_only",))]),
        (ScheduleMaxBackup(3600), [("schedule_max_backup", (3600,))]),
        (CancelMaxBackup(), [("cancel_max_backup", ())]),
        (GoOffGrid(), [("go_off_grid", (True,))]),  # confirm=True, or the library refuses
        (ReconnectGrid(), [("reconnect_grid", ())]),
        (
            Combined(80, BACKUP, NEVER),
            [("set_operation", (80, "backup")), ("set_grid_export", ("never",))],
        ),
        (Combined(80, None, None), [("set_reserve", (80,))]),
        (
            Combined(None, BACKUP, NEVER),
            [("set_mode", ("backup",)), ("set_grid_export", ("never",))],
        ),
        (Combined(None, None, NEVER), [("set_grid_export", ("never",))]),
    ],
)
def test_library_calls_per_command(
    command: Command, sent: list[tuple[str, tuple[object, ...]]]
) -> None:
    writer = FakeWriter()
    for call in library_calls(command):
        call.run(writer)
    assert writer.calls == sent


def test_call_text_names_the_call_for_logs() -> None:
    texts = [c.text for c in library_calls(Combined(20, BACKUP, NEVER))]
    assert texts == ["set_operation(level=20, mode='backup')", "set_grid_export('never')"]


def test_a_hold_must_be_resolved_first() -> None:
    with pytest.raises(ValueError):
        library_calls(HoldReserve())


CLOUD_OK = {
    "set_backup_reserve_percent": {"backup_reserve_percent": 20, "din": None, "result": "Updated"}
}
FLEET_OK = {"set_operation": {"real_mode": "backup", "result": {"response": {"code": 201}}}}
V1R_OK = {
    "set_backup_reserve_percent": {
        "backup_reserve_percent": 24.0,
        "result": {"response": {"Message": "Backup reserve updated", "Code": 200}},
    }
}


@pytest.mark.parametrize(
    ("result", "failure"),
    [
        # successes
        (CLOUD_OK, None),
        (FLEET_OK, None),
        (V1R_OK, None),
        (True, None),  # v1r set_grid_charging / schedule_max_backup
        ({"response": {"code": 201, "message": "Updated"}}, None),  # FleetAPI grid_import_export
        ({"mode": 6, "force": True, "result": 1}, None),  # v1r go_off_grid
        ({"set_backup_reserve_percent": {"result": 0}}, None),  # 0 is an answer, not False
        # failures
        (None, "no result"),  # no write path (TEDAPI Wi-Fi, local) or invalid input
        (False, "reported failure"),  # cloud/FleetAPI invalid mode, max backup failed
        ({"error": "Failed to write config"}, "refused the write"),  # v1r config write
        ({"error": "ProductError({...})"}, "refused the write"),  # cloud exception
        ({"ERROR": "Unknown API: /api/operation"}, "refused the write"),
        ({"set_backup_reserve_percent": {"result": None}}, "refused the reserve part"),  # Fleet
        (
            {
                "set_backup_reserve_percent": {"result": "BatteryNotFound"},
                "set_operation": {"result": "BatteryNotFound"},
            },
            "refused the reserve and mode part",
        ),
        ({"set_operation": {"result": False}}, "refused the mode part"),
    ],
)
def test_call_failure_reads_each_transports_return_value(
    result: object, failure: str | None
) -> None:
    verdict = call_failure(result)
    if failure is None:
        assert verdict is None
    else:
        assert verdict is not None and failure in verdict


def test_failure_never_repeats_the_library_text() -> None:
    verdict = call_failure({"error": "token=abc123 refused by https://owner-api"})
    assert verdict is not None and "abc123" not in verdict
