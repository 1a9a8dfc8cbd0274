"""The counter rule (history/counters.py, docs/history.md), the tariff, the lock file, the
schema's migration, local hours, and the simulator's counters, which history relies on."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from pypowerwall_server.history.buckets import hour_shares, hour_start
from pypowerwall_server.history.counters import energy_between
from pypowerwall_server.history.ingest import Ingestor
from pypowerwall_server.history.lock import FileLock, HistoryLocked
from pypowerwall_server.history.samples import Sample
from pypowerwall_server.history.schema import SCHEMA_VERSION, SchemaTooNew, migrate
from pypowerwall_server.history.store import HistoryStore, HistoryUnavailable
from pypowerwall_server.settings.tariff import Tariff
from pypowerwall_server.simulator.config import SiteConfig
from pypowerwall_server.simulator.model import SiteModel


@pytest.mark.parametrize(
    ("older", "newer", "seconds", "expected"),
    [
        (1000.0, 1010.5, 60.0, 10.5),  # normal
        (1000.0, 1000.0, 60.0, 0.0),  # nothing flowed
        (1000.0, 990.0, 60.0, None),  # backwards (reset, replaced gateway)
        (5_000_000.0, 12.0, 5.0, None),  # reset to near zero
        (1000.0, 1000.0 + 250_000 / 60 + 50, 60.0, 250_000 / 60 + 50),  # at the limit
        (1000.0, 1000.0 + 250_000 / 60 + 51, 60.0, None),  # beyond: a jump
        (1000.0, 1_000_000.0, 5.0, None),  # absurd jump
        (1000.0, 1000.0 + 24 * 3000.0, 86400.0, 24 * 3000.0),  # a day offline, 3 kW
    ],
)
def test_counter_rule(older: float, newer: float, seconds: float, expected: float | None) -> None:
    assert energy_between(older, newer, seconds) == expected


def test_a_reset_gives_no_negative_energy_and_marks_the_hour(tmp_path: Path) -> None:
    store = HistoryStore(tmp_path, batch_seconds=0.01)
    store.start()
    ingestor = Ingestor(store.write, {"g": ZoneInfo("UTC")})
    t = 1_780_000_000.0 // 3600 * 3600
    for step, value in enumerate([1000.0, 1100.0, 5.0, 25.0, 1_000_000.0, 1_000_010.0]):
        ingestor.observe(Sample("g", t + 60 * step, {"home": value}))
    assert store.flush()
    home, estimated = store.read_now(
        lambda c: c.execute("SELECT home, estimated FROM energy_hour").fetchone()
    )
    assert home == 100.0 + 20.0 + 10.0  # the reset and the jump give nothing
    assert estimated == 1
    store.close()


def test_hours_of_a_half_hour_zone_start_at_half_past_utc() -> None:
    zone = ZoneInfo("Asia/Kolkata")
    t = datetime(2026, 5, 1, 10, 45, tzinfo=zone).timestamp()
    assert datetime.fromtimestamp(hour_start(t, zone), zone).strftime("%H:%M") == "10:00"
    shares = list(hour_shares(t, t + 3600, zone))
    assert [round(f, 2) for _, f in shares] == [0.25, 0.75]


def test_tariff_periods_by_time_weekday_and_month() -> None:
    tariff = Tariff.model_validate(
        {
            "import_price": 0.3,
            "export_credit": 0.08,
            "periods": [
                {
                    "import_price": 0.5,
                    "days": ["mon", "tue", "wed", "thu", "fri"],
                    "months": [6, 7, 8],
                    "from": "16:00",
                    "to": "21:00",
                },
                {"import_price": 0.1, "from": "23:00", "to": "06:00"},
            ],
        }
    )
    zone = ZoneInfo("Europe/Paris")
    assert tariff.prices(datetime(2026, 7, 1, 17, tzinfo=zone)) == (0.5, 0.08)  # Wednesday
    assert tariff.prices(datetime(2026, 7, 4, 17, tzinfo=zone)) == (0.3, 0.08)  # Saturday
    assert tariff.prices(datetime(2026, 1, 7, 17, tzinfo=zone)) == (0.3, 0.08)  # winter
    assert tariff.prices(datetime(2026, 1, 7, 2, tzinfo=zone)) == (0.1, 0.08)  # night
    assert tariff.cost(datetime(2026, 1, 7, 2, tzinfo=zone), 2000, 1000) == (0.2, 0.08)


@pytest.mark.parametrize(
    "bad",
    [
        {"import_price": -1},
        {"import_price": 0.3, "periods": [{"import_price": 0.5, "from": "25:00"}]},
        {"import_price": 0.3, "periods": [{"import_price": 0.5, "months": [13]}]},
        {"import_price": 0.3, "periods": [{"name": "empty"}]},
        {"import_price": 0.3, "surprise": 1},
    ],
)
def test_bad_tariffs_are_refused(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        Tariff.model_validate(bad)


def test_second_lock_on_the_same_file_is_refused(tmp_path: Path) -> None:
    first, second = FileLock(tmp_path / "x.lock"), FileLock(tmp_path / "x.lock")
    first.acquire()
    with pytest.raises(HistoryLocked, match="another pypowerwall-server"):
        second.acquire()
    first.release()
    second.acquire()
    second.release()


def test_migration_runs_once_and_refuses_a_newer_file(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "h.sqlite", isolation_level=None)
    assert migrate(conn) == SCHEMA_VERSION
    assert migrate(conn) == SCHEMA_VERSION  # nothing to do the second time
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(SchemaTooNew):
        migrate(conn)
    conn.close()


def test_other_features_schemas_and_jobs_run_on_the_writer(tmp_path: Path) -> None:
    store = HistoryStore(tmp_path, batch_seconds=0.01)
    store.add_schema("events", ["CREATE TABLE IF NOT EXISTS events (t REAL, what TEXT)"])
    store.start()

    def insert(conn: sqlite3.Connection) -> None:
        conn.execute("INSERT INTO events VALUES (1, 'grid down')")

    store.write(insert)
    assert store.flush()
    rows = store.read_now(lambda c: c.execute("SELECT what FROM events").fetchall())
    assert rows == [("grid down",)]
    store.close()
    with pytest.raises(HistoryUnavailable):
        store.read_now(lambda c: None)
    store.write(lambda c: None)
    assert store.dropped_writes == 1


def test_simulator_counters_advance_with_the_simulated_power() -> None:
    model = SiteModel(SiteConfig.for_index(0, seed=1), real_start=0.0)
    model.advance_sim(6 * 3600.0)  # morning: the sun is up
    before = (model.counters.solar_exported, model.counters.load_imported)
    expected_solar = expected_home = 0.0
    for _ in range(600):
        flows = model.flows(1.0)
        expected_solar += max(flows.solar_w, 0.0) / 3600.0
        expected_home += max(flows.load_w, 0.0) / 3600.0
        model.advance_sim(1.0)
    solar = model.counters.solar_exported - before[0]
    home = model.counters.load_imported - before[1]
    assert expected_home > 0
    assert solar == pytest.approx(expected_solar, rel=1e-6)
    assert home == pytest.approx(expected_home, rel=1e-6)
