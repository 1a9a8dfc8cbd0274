"""A small SqlRunner on stdlib sqlite3 (the history store implements the same contract)."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


class FileRunner:
    """add_schema/write/read on one file: writes run at once in a transaction."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.schemas: dict[str, Sequence[str]] = {}

    def open(self) -> None:
        with sqlite3.connect(self.path) as db:
            for statements in self.schemas.values():
                for statement in statements:
                    db.execute(statement)

    def add_schema(self, name: str, statements: Sequence[str]) -> None:
        self.schemas[name] = statements

    def write(self, job: Callable[[sqlite3.Connection], None]) -> None:
        with sqlite3.connect(self.path) as db:
            job(db)

    async def read(self, query: Callable[[sqlite3.Connection], T]) -> T:
        def run() -> T:
            with sqlite3.connect(self.path) as db:
                return query(db)

        return await asyncio.to_thread(run)
