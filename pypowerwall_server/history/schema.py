"""The history file's tables, versioned with SQLite's user_version and migrated on open.

Times are epoch seconds (UTC). Energy is Wh, power W, state of energy 0-100 % app scale.
A migration is a list of statements run in one transaction; the file's user_version says
how many have run. Other features add their own CREATE ... IF NOT EXISTS statements through
the store's add_schema (they version themselves).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

_POWER_COLUMNS = """
    site_mean REAL, site_min REAL, site_max REAL,
    solar_mean REAL, solar_min REAL, solar_max REAL,
    battery_mean REAL, battery_min REAL, battery_max REAL,
    home_mean REAL, home_min REAL, home_max REAL,
    soe_mean REAL, soe_min REAL, soe_max REAL,
    grid_status TEXT"""

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (  # 1: energy, power, periods, control writes
        """CREATE TABLE energy_hour (
            gateway TEXT NOT NULL, hour INTEGER NOT NULL,
            solar REAL NOT NULL DEFAULT 0, home REAL NOT NULL DEFAULT 0,
            grid_import REAL NOT NULL DEFAULT 0, grid_export REAL NOT NULL DEFAULT 0,
            battery_charge REAL NOT NULL DEFAULT 0, battery_discharge REAL NOT NULL DEFAULT 0,
            estimated INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (gateway, hour)) WITHOUT ROWID""",
        """CREATE TABLE counters_last (
            gateway TEXT NOT NULL, channel TEXT NOT NULL, t REAL NOT NULL, value REAL NOT NULL,
            PRIMARY KEY (gateway, channel)) WITHOUT ROWID""",
        f"""CREATE TABLE power_minute (gateway TEXT NOT NULL, t INTEGER NOT NULL,
            {_POWER_COLUMNS}, PRIMARY KEY (gateway, t)) WITHOUT ROWID""",
        f"""CREATE TABLE power_hour (gateway TEXT NOT NULL, t INTEGER NOT NULL,
            {_POWER_COLUMNS}, PRIMARY KEY (gateway, t)) WITHOUT ROWID""",
        """CREATE TABLE temperature_5min (gateway TEXT NOT NULL, t INTEGER NOT NULL,
            device TEXT NOT NULL, mean_c REAL NOT NULL,
            PRIMARY KEY (gateway, t, device)) WITHOUT ROWID""",
        """CREATE TABLE outages (id INTEGER PRIMARY KEY, gateway TEXT NOT NULL,
            start REAL NOT NULL, "end" REAL, discharged_at_start REAL, battery_wh REAL)""",
        "CREATE INDEX outages_start ON outages (start)",
        """CREATE TABLE gaps (id INTEGER PRIMARY KEY, gateway TEXT NOT NULL,
            kind TEXT NOT NULL, start REAL NOT NULL, "end" REAL)""",
        "CREATE INDEX gaps_start ON gaps (start)",
        """CREATE TABLE control_writes (id INTEGER PRIMARY KEY, t REAL NOT NULL,
            gateway TEXT NOT NULL, what TEXT NOT NULL, old TEXT, new TEXT, result TEXT NOT NULL)""",
        "CREATE INDEX control_writes_t ON control_writes (t)",
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)


class SchemaTooNew(Exception):
    """The file was written by a newer server; this one would misread it."""


def migrate(conn: sqlite3.Connection, migrations: Sequence[Sequence[str]] = MIGRATIONS) -> int:
    """Run the migrations the file has not had yet, each in its own transaction; the
    version the file has now."""
    version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    if version > len(migrations):
        raise SchemaTooNew(
            f"history file has schema {version}, this server knows {len(migrations)}"
        )
    for number in range(version, len(migrations)):
        in_transaction(conn, [*migrations[number], f"PRAGMA user_version = {number + 1}"])
    return len(migrations)


def in_transaction(conn: sqlite3.Connection, statements: Sequence[str]) -> None:
    """Run statements all or none (the connection is in autocommit mode: isolation_level
    None, so BEGIN is ours and DDL is inside it too)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        for statement in statements:
            conn.execute(statement)
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
