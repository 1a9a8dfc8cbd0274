"""Power over time: mean, min and max of each quantity per fixed step (1 minute, 1 hour),
gathered in memory and handed over as one row when the step is over."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field

from pypowerwall_server.history.samples import Sample

QUANTITIES: tuple[str, ...] = ("site", "solar", "battery", "home", "soe")
_INF = float("inf")
_SOE_AT = 4 * QUANTITIES.index("soe")


@dataclass(slots=True)
class PowerRow:
    """One step's statistics; `t` is the step's start (epoch seconds). `stats` holds, per
    quantity, [sum, count, min, max] one after another (flat: rows are made per reading)."""

    t: int
    stats: list[float] = field(default_factory=lambda: [0.0, 0, _INF, -_INF] * len(QUANTITIES))
    grid_status: str | None = None

    def add(self, sample: Sample) -> None:
        values = (sample.site_w, sample.solar_w, sample.battery_w, sample.home_w, sample.soe_pct)
        stats = self.stats
        for i, value in enumerate(values):
            if value is not None:
                at = 4 * i
                stats[at] += value
                stats[at + 1] += 1
                stats[at + 2] = min(stats[at + 2], value)
                stats[at + 3] = max(stats[at + 3], value)
        if sample.grid_up is not None:
            up = "up" if sample.grid_up else "down"
            # A step that saw the grid down at all says so.
            self.grid_status = "down" if self.grid_status == "down" else up

    def values(self) -> tuple[float | str | None, ...]:
        flat: list[float | str | None] = []
        stats = self.stats
        for at in range(0, 4 * len(QUANTITIES), 4):
            count = stats[at + 1]
            if not count:
                flat.extend((None, None, None))
            elif at == _SOE_AT:  # % to a tenth
                flat.extend(round(v, 1) for v in (stats[at] / count, stats[at + 2], stats[at + 3]))
            else:  # whole W: SQLite stores small integers in 2-3 bytes, a REAL in 8
                flat.extend(round(v) for v in (stats[at] / count, stats[at + 2], stats[at + 3]))
        flat.append(self.grid_status)
        return tuple(flat)


class PowerSteps:
    """Rows of one gateway at one step; add() returns the finished row when a sample
    starts a new step."""

    def __init__(self, step: int) -> None:
        self.step = step
        self.current: PowerRow | None = None

    def add(self, sample: Sample) -> PowerRow | None:
        start = int(sample.t // self.step * self.step)
        finished = None
        if self.current is not None and self.current.t != start:
            finished, self.current = self.current, None
        if self.current is None:
            self.current = PowerRow(start)
        self.current.add(sample)
        return finished


_MARKS = ", ".join("?" for _ in range(2 + 3 * len(QUANTITIES) + 1))


def write_power(conn: sqlite3.Connection, table: str, gateway_id: str, row: PowerRow) -> None:
    """Store one row in `table` (power_minute or power_hour, both this shape)."""
    sql = f"INSERT OR REPLACE INTO {table} VALUES ({_MARKS})"
    conn.execute(sql, (gateway_id, row.t, *row.values()))
