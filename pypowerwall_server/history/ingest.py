"""Ingestion: each reading becomes queued writes (energy per local hour, power per minute
and hour, temperatures per 5 minutes, outages and gaps). The server and the tests feed it
the same way, observe(sample), with the sample's own time: no wall clock in here.

Runs on the event loop; it only computes and queues, the store's writer thread writes.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from pypowerwall_server.history.buckets import hour_shares, hour_start
from pypowerwall_server.history.counters import CHANNELS, energy_between
from pypowerwall_server.history.power import PowerRow, PowerSteps, write_power
from pypowerwall_server.history.samples import Sample

Job = Callable[[sqlite3.Connection], None]
# Readings further apart than this are a gap: it is recorded, and where its energy crosses
# an hour boundary the hours say `estimated` (the split across them is not known).
GAP_SECONDS = 600.0
TEMPERATURE_STEP = 300
_INDEX = {channel: i for i, channel in enumerate(CHANNELS)}
_UPSERT_ENERGY = f"""INSERT INTO energy_hour (gateway, hour, {", ".join(CHANNELS)}, estimated)
    VALUES (?, ?, {", ".join("?" for _ in CHANNELS)}, ?)
    ON CONFLICT (gateway, hour) DO UPDATE SET
    {", ".join(f"{c} = {c} + excluded.{c}" for c in CHANNELS)},
    estimated = max(estimated, excluded.estimated)"""


@dataclass(slots=True)
class _Temperatures:
    t: int
    sums: dict[str, tuple[float, int]] = field(default_factory=dict)


@dataclass(slots=True)
class _Gateway:
    zone: ZoneInfo
    last: dict[str, tuple[float, float]] = field(default_factory=dict)  # channel: (t, Wh)
    last_t: float | None = None
    minutes: PowerSteps = field(default_factory=lambda: PowerSteps(60))
    hours: PowerSteps = field(default_factory=lambda: PowerSteps(3600))
    temperatures: _Temperatures | None = None
    outage_discharged: float | None = None
    in_outage: bool = False
    offline: bool = False


class Ingestor:
    def __init__(
        self,
        write: Callable[[Job], None],
        zones: Mapping[str, ZoneInfo],
        keep_minutes_days: int = 400,
    ) -> None:
        self._write = write
        self._gateways = {gid: _Gateway(zone) for gid, zone in zones.items()}
        self._keep_seconds = keep_minutes_days * 86400
        self._next_prune = 0.0

    def restore(self, conn: sqlite3.Connection) -> None:
        """Carry on from the file: last counters (a restart's gap keeps its energy), open
        outages and offline periods."""
        for gid, channel, t, value in conn.execute("SELECT * FROM counters_last"):
            if (g := self._gateways.get(gid)) is not None:
                g.last[channel] = (t, value)
                g.last_t = max(g.last_t or t, t)
        query = 'SELECT gateway, discharged_at_start FROM outages WHERE "end" IS NULL'
        for gid, discharged in conn.execute(query):
            if (g := self._gateways.get(gid)) is not None:
                g.in_outage, g.outage_discharged = True, discharged
        query = "SELECT gateway FROM gaps WHERE kind = 'offline' AND \"end\" IS NULL"
        for (gid,) in conn.execute(query):
            if (g := self._gateways.get(gid)) is not None:
                g.offline = True

    def observe(self, sample: Sample) -> None:
        g = self._gateways.get(sample.gateway_id)
        if g is None or (g.last_t is not None and sample.t <= g.last_t):
            return  # unknown gateway, or a reading already seen
        jobs: list[Job] = []
        gid, t = sample.gateway_id, sample.t
        if g.offline:
            g.offline = False
            jobs.append(_close_period(gid, "offline", t))
        if g.last_t is not None and t - g.last_t > GAP_SECONDS:
            jobs.append(_period_job(gid, "gap", g.last_t, t))
        jobs.append(self._energy(g, sample))
        jobs.extend(self._outage(g, sample))
        jobs.extend(self._power(g, sample))
        jobs.extend(self._temperatures(g, sample))
        if t >= self._next_prune:
            self._next_prune = t + 3600
            jobs.append(_prune(tuple(self._gateways), t - self._keep_seconds))
        g.last_t = t
        self._write(_all(jobs))

    def went_offline(self, gateway_id: str, t: float) -> None:
        """The gateway stopped answering at `t` (an offline period starts)."""
        g = self._gateways.get(gateway_id)
        if g is not None and not g.offline:
            g.offline = True
            self._write(_period_job(gateway_id, "offline", t, None))

    def finish(self) -> None:
        """Write the steps still being gathered (shutdown)."""
        for gid, g in self._gateways.items():
            for table, steps in (("power_minute", g.minutes), ("power_hour", g.hours)):
                if (row := steps.current) is not None:
                    self._write(_power_job(table, gid, row))

    def _energy(self, g: _Gateway, sample: Sample) -> Job:
        hours: dict[int, list[float]] = {}
        estimated: set[int] = set()
        spans: dict[float, list[tuple[int, float]]] = {}  # channels usually share one
        for channel, value in sample.counters.items():
            previous = g.last.get(channel)
            g.last[channel] = (sample.t, value)
            if previous is None or previous[0] >= sample.t or channel not in _INDEX:
                continue
            t0, v0 = previous
            wh = energy_between(v0, value, sample.t - t0)
            if wh is None:  # not trusted: no energy, and the hour says something is unknown
                hour = hour_start(sample.t, g.zone)
                hours.setdefault(hour, [0.0] * len(CHANNELS))
                estimated.add(hour)
                continue
            shares = spans.get(t0)
            if shares is None:
                shares = spans[t0] = list(hour_shares(t0, sample.t, g.zone))
            for hour, fraction in shares:
                hours.setdefault(hour, [0.0] * len(CHANNELS))[_INDEX[channel]] += wh * fraction
                if len(shares) > 1 and sample.t - t0 > GAP_SECONDS:
                    estimated.add(hour)
        rows = [(sample.gateway_id, h, *v, int(h in estimated)) for h, v in hours.items()]
        last = [(sample.gateway_id, ch, t, v) for ch, (t, v) in g.last.items()]

        def job(conn: sqlite3.Connection) -> None:
            conn.executemany(_UPSERT_ENERGY, rows)
            conn.executemany("INSERT OR REPLACE INTO counters_last VALUES (?, ?, ?, ?)", last)

        return job

    def _outage(self, g: _Gateway, sample: Sample) -> list[Job]:
        gid, t = sample.gateway_id, sample.t
        discharged = g.last.get("battery_discharge", (t, None))[1]
        if sample.grid_up is False and not g.in_outage:
            g.in_outage, g.outage_discharged = True, discharged
            sql = "INSERT INTO outages (gateway, start, discharged_at_start) VALUES (?, ?, ?)"
            return [lambda c: _run(c, sql, (gid, t, discharged))]
        if sample.grid_up is True and g.in_outage:
            start_wh, g.in_outage, g.outage_discharged = g.outage_discharged, False, None
            wh = None
            if start_wh is not None and discharged is not None and discharged >= start_wh:
                wh = discharged - start_wh
            sql = 'UPDATE outages SET "end" = ?, battery_wh = ? WHERE gateway = ? AND "end" IS NULL'
            return [lambda c: _run(c, sql, (t, wh, gid))]
        return []

    def _power(self, g: _Gateway, sample: Sample) -> list[Job]:
        jobs: list[Job] = []
        gid = sample.gateway_id
        for table, steps in (("power_minute", g.minutes), ("power_hour", g.hours)):
            if (row := steps.add(sample)) is not None:
                jobs.append(_power_job(table, gid, row))
        return jobs

    def _temperatures(self, g: _Gateway, sample: Sample) -> list[Job]:
        start = int(sample.t // TEMPERATURE_STEP * TEMPERATURE_STEP)
        jobs: list[Job] = []
        done = g.temperatures
        if done is not None and done.t != start:
            rows = [(sample.gateway_id, done.t, d, s / n) for d, (s, n) in done.sums.items()]
            sql = "INSERT OR REPLACE INTO temperature_5min VALUES (?, ?, ?, ?)"
            jobs.append(lambda c: _run_many(c, sql, rows))
            g.temperatures = None
        if sample.temperatures_c:
            current = g.temperatures = g.temperatures or _Temperatures(start)
            for device, celsius in sample.temperatures_c.items():
                total, count = current.sums.get(device, (0.0, 0))
                current.sums[device] = (total + celsius, count + 1)
        return jobs

    def record_control(
        self, t: float, gateway_id: str, what: str, old: str | None, new: str | None, result: str
    ) -> None:
        sql = "INSERT INTO control_writes (t, gateway, what, old, new, result) VALUES (?,?,?,?,?,?)"
        self._write(lambda c: _run(c, sql, (t, gateway_id, what, old, new, result)))


def _run(conn: sqlite3.Connection, sql: str, args: tuple[object, ...]) -> None:
    conn.execute(sql, args)


def _run_many(conn: sqlite3.Connection, sql: str, rows: Sequence[tuple[object, ...]]) -> None:
    conn.executemany(sql, rows)


def _power_job(table: str, gateway_id: str, row: PowerRow) -> Job:
    return lambda conn: write_power(conn, table, gateway_id, row)


def _all(jobs: list[Job]) -> Job:
    def job(conn: sqlite3.Connection) -> None:
        for one in jobs:
            one(conn)

    return job


def _insert_period(
    conn: sqlite3.Connection, gateway_id: str, kind: str, start: float, end: float | None
) -> None:
    sql = 'INSERT INTO gaps (gateway, kind, start, "end") VALUES (?, ?, ?, ?)'
    conn.execute(sql, (gateway_id, kind, start, end))


def _period_job(gateway_id: str, kind: str, start: float, end: float | None) -> Job:
    return lambda conn: _insert_period(conn, gateway_id, kind, start, end)


def _close_period(gateway_id: str, kind: str, t: float) -> Job:
    sql = 'UPDATE gaps SET "end" = ? WHERE gateway = ? AND kind = ? AND "end" IS NULL'
    return lambda c: _run(c, sql, (t, gateway_id, kind))


def _prune(gateways: tuple[str, ...], before: float) -> Job:
    """Drop minute power and temperatures older than the retention (by primary key)."""

    def job(conn: sqlite3.Connection) -> None:
        for gid in gateways:
            conn.execute("DELETE FROM power_minute WHERE gateway = ? AND t < ?", (gid, before))
            conn.execute("DELETE FROM temperature_5min WHERE gateway = ? AND t < ?", (gid, before))

    return job
