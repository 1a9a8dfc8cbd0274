"""A year of readings fed through the server's ingestion (Ingestor.observe, the store's
writer thread, the API's energy query), with its clock in the test's hands: a DST change
each way, a 3-hour gap, a counter reset and a gateway offline for a day. Every day's
totals must equal the counter differences to the Wh."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from pypowerwall_server.history.counters import CHANNELS
from pypowerwall_server.history.ingest import Ingestor
from pypowerwall_server.history.queries import EnergyQuery, energy, gaps, outages
from pypowerwall_server.history.samples import Sample
from pypowerwall_server.history.store import HistoryStore

ZONE = ZoneInfo("Europe/Berlin")
STEP = 600  # seconds between readings
GATEWAY = "home"
GAP = (datetime(2026, 2, 10, 10, 0, tzinfo=ZONE), datetime(2026, 2, 10, 13, 0, tzinfo=ZONE))
RESET_AT = datetime(2026, 4, 10, 12, 0, tzinfo=ZONE)  # the site meter restarts from zero
OFFLINE = (datetime(2026, 7, 19, 18, 0, tzinfo=ZONE), datetime(2026, 7, 20, 20, 0, tzinfo=ZONE))
OUTAGE = (datetime(2026, 9, 1, 3, 0, tzinfo=ZONE), datetime(2026, 9, 1, 5, 0, tzinfo=ZONE))


def increments(i: int) -> dict[str, float]:
    """Whole Wh per step, varying so that hours and days differ."""
    return {channel: float((i * (7 + 3 * n)) % 97 + n) for n, channel in enumerate(CHANNELS)}


@dataclass
class Feed:
    """What the readings truly were: each local day's energy by channel."""

    expected: dict[date, dict[str, float]] = field(
        default_factory=lambda: defaultdict(lambda: dict.fromkeys(CHANNELS, 0.0))
    )
    samples: list[Sample] = field(default_factory=list)
    offline_at: float = 0.0


def year_feed() -> Feed:
    feed = Feed()
    counters = dict.fromkeys(CHANNELS, 1_000_000.0)
    t = datetime(2026, 1, 1, tzinfo=ZONE).timestamp()
    end = datetime(2027, 1, 1, tzinfo=ZONE).timestamp()
    i = 0
    pending = dict.fromkeys(CHANNELS, 0.0)  # energy since the last reading that was fed
    pending_day = None
    feed.samples.append(Sample(GATEWAY, t, dict(counters)))  # the base at midnight
    while t < end:
        i += 1
        t += STEP
        added = increments(i)
        for channel, wh in added.items():
            counters[channel] += wh
            pending[channel] += wh
        day = datetime.fromtimestamp(t - STEP, ZONE).date()  # the step's energy is its start's
        if _within(t, GAP) or _within(t, OFFLINE):
            if feed.offline_at == 0.0 and _within(t, OFFLINE):
                feed.offline_at = t
            pending_day = pending_day or day
            continue
        if t == RESET_AT.timestamp():  # the site meter is replaced: it starts again near 0
            for channel in ("grid_import", "grid_export"):
                counters[channel] = added[channel]
                pending[channel] = 0.0  # the rule: that interval's energy is not known
        for channel in CHANNELS:
            feed.expected[pending_day or day][channel] += pending[channel]
        pending = dict.fromkeys(CHANNELS, 0.0)
        pending_day = None
        grid_up = not _within(t, OUTAGE)
        feed.samples.append(
            Sample(GATEWAY, t, dict(counters), 100.0, 50.0, -20.0, 130.0, 60.0, grid_up)
        )
    return feed


def _within(t: float, span: tuple[datetime, datetime]) -> bool:
    return span[0].timestamp() < t < span[1].timestamp()


@pytest.fixture(scope="module")
def fed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[HistoryStore, Feed]]:
    folder: Path = tmp_path_factory.mktemp("history")
    store = HistoryStore(folder, batch_seconds=0.05)
    store.start()
    ingestor = Ingestor(store.write, {GATEWAY: ZONE})
    feed = year_feed()
    for sample in feed.samples:
        if sample.t > OFFLINE[0].timestamp() and feed.offline_at:
            ingestor.went_offline(GATEWAY, feed.offline_at)
            feed.offline_at = 0.0
        ingestor.observe(sample)
    assert store.flush()
    yield store, feed
    store.close()


def day_totals(store: HistoryStore, day: date) -> dict[str, Any]:
    query = EnergyQuery((GATEWAY,), ZONE, "day", day)
    return store.read_now(lambda conn: energy(conn, query))


def test_every_day_equals_the_counter_differences_to_the_wh(
    fed: tuple[HistoryStore, Feed],
) -> None:
    store, feed = fed
    offline_days = {OFFLINE[0].date(), OFFLINE[1].date()}
    checked = 0
    for day, truth in feed.expected.items():
        if day in offline_days:
            continue
        totals = day_totals(store, day)["totals"]
        for channel in CHANNELS:
            assert totals[f"{channel}_wh"] == pytest.approx(truth[channel], abs=0.5), (day, channel)
        checked += 1
    assert checked >= 363


def test_a_day_offline_keeps_its_energy_and_says_estimated(
    fed: tuple[HistoryStore, Feed],
) -> None:
    store, feed = fed
    days = [day_totals(store, d) for d in (OFFLINE[0].date(), OFFLINE[1].date())]
    for channel in CHANNELS:
        stored = sum(d["totals"][f"{channel}_wh"] for d in days)
        truth = sum(feed.expected[OFFLINE[i].date()][channel] for i in (0, 1))
        assert stored == pytest.approx(truth, abs=0.5)
    buckets = [b for d in days for b in d["buckets"]]
    assert any(b["estimated"] for b in buckets)
    assert not buckets[0]["estimated"]  # midnight to 1:00, before the gateway went away


def test_dst_days_have_23_and_25_hours(fed: tuple[HistoryStore, Feed]) -> None:
    store, _ = fed
    assert len(day_totals(store, date(2026, 3, 29))["buckets"]) == 23
    assert len(day_totals(store, date(2026, 10, 25))["buckets"]) == 25
    assert len(day_totals(store, date(2026, 6, 1))["buckets"]) == 24


def test_gap_of_three_hours_is_estimated_within_its_hours(fed: tuple[HistoryStore, Feed]) -> None:
    store, _ = fed
    buckets = day_totals(store, GAP[0].date())["buckets"]
    flagged = [datetime.fromisoformat(b["start"]).hour for b in buckets if b["estimated"]]
    assert flagged == [10, 11, 12]


def test_counter_reset_gives_no_negative_energy(fed: tuple[HistoryStore, Feed]) -> None:
    store, _ = fed
    buckets = day_totals(store, RESET_AT.date())["buckets"]
    assert all(b["grid_import_wh"] >= 0 and b["grid_export_wh"] >= 0 for b in buckets)
    assert [b["estimated"] for b in buckets].count(True) == 1


def test_year_and_month_roll_up_the_days(fed: tuple[HistoryStore, Feed]) -> None:
    store, feed = fed
    query = EnergyQuery((GATEWAY,), ZONE, "year", date(2026, 5, 5))
    year = store.read_now(lambda conn: energy(conn, query))
    assert len(year["buckets"]) == 12
    truth = sum(v["solar"] for v in feed.expected.values())
    assert year["totals"]["solar_wh"] == pytest.approx(truth, abs=1)
    march = year["buckets"][2]
    query = EnergyQuery((GATEWAY,), ZONE, "month", date(2026, 3, 1))
    month = store.read_now(lambda conn: energy(conn, query))
    assert len(month["buckets"]) == 31
    assert month["totals"]["home_wh"] == pytest.approx(march["home_wh"], abs=0.01)
    week = store.read_now(
        lambda c: energy(c, EnergyQuery((GATEWAY,), ZONE, "week", date(2026, 3, 5)))
    )
    assert week["buckets"][0]["start"][:10] == "2026-03-02"
    assert len(week["buckets"]) == 7


def test_outage_and_offline_periods_are_stored(fed: tuple[HistoryStore, Feed]) -> None:
    store, _ = fed
    start, end = datetime(2026, 1, 1, tzinfo=ZONE).timestamp(), datetime(2027, 1, 1).timestamp()
    found = store.read_now(lambda c: outages(c, [GATEWAY], start, end, 100))
    assert len(found) == 1
    gateway, began, ended, battery_wh = found[0]
    assert began > OUTAGE[0].timestamp() and ended >= OUTAGE[1].timestamp()
    assert battery_wh is not None and battery_wh > 0
    periods = store.read_now(lambda c: gaps(c, [GATEWAY], start, end, 100))
    kinds = sorted(kind for _, kind, _, _ in periods)
    assert kinds == ["gap", "gap", "offline"]
    offline = next(p for p in periods if p[1] == "offline")
    assert offline[3] is not None and offline[3] - offline[2] > 86400
    assert gateway == GATEWAY


def test_one_minute_power_is_kept_and_hourly_power_too(fed: tuple[HistoryStore, Feed]) -> None:
    store, _ = fed
    minutes = store.read_now(lambda c: c.execute("SELECT COUNT(*) FROM power_minute").fetchone())
    hours = store.read_now(lambda c: c.execute("SELECT COUNT(*) FROM power_hour").fetchone())
    assert minutes[0] > 50_000 and hours[0] > 8000
