"""Events from states: each kind once, hold-down against flapping, baselines, restarts."""

from __future__ import annotations

from pypowerwall_server.events.detector import GatewayWatch
from pypowerwall_server.events.model import EventDraft
from tests.unit.events.states import offline, on_transport, online

HOLD = 10.0


def watch() -> GatewayWatch:
    return GatewayWatch("home", "Home", soe_low=20.0, hold_down=HOLD)


def kinds(drafts: list[EventDraft]) -> list[str]:
    return [d.kind for d in drafts]


def test_first_normal_look_tells_nothing() -> None:
    assert watch().observe(online(0.0), 0.0) == []


def test_grid_outage_is_told_at_once_with_the_battery_sentence() -> None:
    w = watch()
    w.observe(online(0.0), 0.0)
    (draft,) = w.observe(online(5.0, grid_status="DOWN"), 5.0)
    assert draft.kind == "grid_outage" and draft.severity == "critical"
    assert draft.message == (
        "Grid outage at Home: Powerwall at 62 %, about 9 h of backup at the current load"
    )
    assert draft.values["backup_hours"] == 9.0


def test_grid_restored_only_after_the_hold_down() -> None:
    w = watch()
    w.observe(online(0.0, grid_status="DOWN"), 0.0)
    assert w.observe(online(5.0), 5.0) == []  # gone, but not for HOLD yet
    (draft,) = w.observe(online(15.0), 15.0)
    assert draft.kind == "grid_restored"
    assert draft.values["duration_s"] == 15.0
    assert draft.message == "Grid restored at Home after 15 s"


def test_flapping_grid_gives_one_outage_with_a_count() -> None:
    w = watch()
    w.observe(online(0.0), 0.0)
    told = []
    for step in range(1, 21):  # the grid bounces every poll for 20 polls
        at = step * 3.0
        told += w.observe(online(at, grid_status="DOWN" if step % 2 else "UP"), at)
    told += w.observe(online(70.0), 70.0)
    told += w.observe(online(80.0), 80.0)
    assert kinds(told) == ["grid_outage", "grid_restored"]
    assert told[1].count == 10
    assert "(it went down 10 times)" in told[1].message


def test_offline_then_online() -> None:
    w = watch()
    w.observe(online(0.0), 0.0)
    (down,) = w.observe(offline(5.0), 5.0)
    assert down.kind == "gateway_offline"
    assert down.message == "Home stopped answering: connection refused"
    assert w.observe(online(10.0), 10.0) == []
    assert kinds(w.observe(online(20.0), 20.0)) == ["gateway_online"]


def test_refused_password_is_auth_failed() -> None:
    w = watch()
    (draft,) = w.observe(offline(5.0, problem="auth_failed"), 5.0)
    assert draft.kind == "auth_failed" and draft.severity == "critical"
    assert "check PW_PASSWORD" in draft.message


def test_soe_low_recovers_only_above_its_margin() -> None:
    w = watch()
    w.observe(online(0.0, soe_percent_app=25.0), 0.0)
    (low,) = w.observe(online(5.0, soe_percent_app=19.0), 5.0)
    assert low.kind == "soe_low" and low.values["threshold_percent"] == 20.0
    assert w.observe(online(10.0, soe_percent_app=22.0), 10.0) == []  # under 25: still low
    assert w.observe(online(30.0, soe_percent_app=22.0), 30.0) == []
    w.observe(online(40.0, soe_percent_app=26.0), 40.0)
    assert kinds(w.observe(online(50.0, soe_percent_app=26.0), 50.0)) == ["soe_recovered"]


def test_battery_full_once_until_it_falls_well_below() -> None:
    w = watch()
    w.observe(online(0.0, soe_percent_app=98.0), 0.0)
    assert kinds(w.observe(online(5.0, soe_percent_app=100.0), 5.0)) == ["battery_full"]
    for at in (15.0, 30.0, 45.0):  # wobbling near full is not news
        assert w.observe(online(at, soe_percent_app=97.0), at) == []
        assert w.observe(online(at + 5, soe_percent_app=100.0), at + 5) == []


def test_alerts_baseline_then_new_and_cleared_by_name() -> None:
    w = watch()
    assert w.observe(online(0.0), 0.0) == []  # FWUpdateSucceeded: baseline
    alerts = ("FWUpdateSucceeded", "SystemConnectedToGrid", "BatteryFault")
    (raised,) = w.observe(online(5.0, alerts=alerts), 5.0)
    assert raised.kind == "alert_raised" and raised.message == "New alert at Home: BatteryFault"
    w.observe(online(10.0), 10.0)
    (cleared,) = w.observe(online(20.0), 20.0)
    assert cleared.kind == "alert_cleared" and cleared.values["alert"] == "BatteryFault"


def test_grid_alert_is_not_a_second_outage_event() -> None:
    w = watch()
    w.observe(online(0.0), 0.0)
    drafts = w.observe(online(5.0, grid_status="DOWN", alerts=("FWUpdateSucceeded",)), 5.0)
    assert kinds(drafts) == ["grid_outage"]


def test_firmware_change_after_the_first_version() -> None:
    w = watch()
    w.observe(online(0.0), 0.0)
    (draft,) = w.observe(online(5.0, firmware_version="25.2.1"), 5.0)
    assert draft.message == "Firmware of Home changed from 24.4.0 to 25.2.1"


def test_transport_failover_and_recovery() -> None:
    w = watch()
    w.observe(on_transport(online(0.0), "tedapi"), 0.0)
    (failover,) = w.observe(on_transport(online(5.0), "local"), 5.0)
    assert failover.message == "Home switched from tedapi to local"
    w.observe(on_transport(online(10.0), "tedapi"), 10.0)
    (back,) = w.observe(on_transport(online(20.0), "tedapi"), 20.0)
    assert back.kind == "transport_recovered"


def test_restart_does_not_announce_known_conditions_again() -> None:
    before = watch()
    before.observe(online(0.0), 0.0)
    before.observe(online(5.0, grid_status="DOWN", firmware_version="25.2.1"), 5.0)
    after = watch()
    after.restore(before.saved())
    assert after.observe(online(100.0, grid_status="DOWN", firmware_version="25.2.1"), 100.0) == []
    after.observe(online(105.0, firmware_version="25.2.1"), 105.0)
    assert kinds(after.observe(online(115.0, firmware_version="25.2.1"), 115.0)) == [
        "grid_restored"
    ]


def test_a_state_seen_twice_is_not_counted_twice() -> None:
    w = watch()
    w.observe(online(0.0), 0.0)
    state = online(5.0, grid_status="DOWN")
    assert kinds(w.observe(state, 5.0)) == ["grid_outage"]
    assert w.observe(state, 6.0) == []
