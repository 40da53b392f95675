"""Managers' forecast adjustments and their audit trail, kept beside the workspace's data.

Why a SQLite file (``eigyo-forecast.sqlite``) and not the workspace: an adjustment is a
person's judgement, not imported data — it must survive every import (each publishes a new
generation of the DuckDB file, :mod:`eigyo.workspace`) and restarts, and be written by any worker
process of ``eigyo serve --workers N`` while the data stays read-only; SQLite in WAL mode lets
several processes write one file, as the sessions do (:mod:`eigyo.app._security`).

Nothing is ever updated or deleted: every change is a new row (who, when, the call before, the
new call, the comment), and the current call of a rep or team in a period is its latest row. A
row whose new call is empty clears the adjustment (the system's call applies again). Reading the
old call and writing the new one happen in one ``BEGIN IMMEDIATE`` transaction, so two managers
saving at once both land in the trail, each with the call the other left.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

#: The adjustments of a workspace's dashboard, in its folder (beside the sessions).
ADJUSTMENTS_FILE = "eigyo-forecast.sqlite"
Level = Literal["rep", "team"]
LEVELS: tuple[Level, ...] = ("rep", "team")
_DDL = """CREATE TABLE IF NOT EXISTS adjustments (
    id INTEGER PRIMARY KEY AUTOINCREMENT, period TEXT NOT NULL, level TEXT NOT NULL,
    target TEXT NOT NULL, old_amount REAL, new_amount REAL, comment TEXT NOT NULL,
    username TEXT NOT NULL, role TEXT NOT NULL, at REAL NOT NULL)"""
_INDEX = "CREATE INDEX IF NOT EXISTS adjustments_period ON adjustments (period, level, target)"


@dataclass(frozen=True)
class Change:
    """One row of the trail: ``old``/``new`` None mean "no adjustment" (the system's call)."""

    id: int
    period: str
    level: Level
    target: str
    old: float | None
    new: float | None
    comment: str
    username: str
    role: str
    at: float


class AdjustmentStore:
    """The adjustments of one workspace (``folder/eigyo-forecast.sqlite``)."""

    def __init__(self, folder: Path) -> None:
        self.db = Path(folder) / ADJUSTMENTS_FILE
        if not self.db.exists():  # only the server's user reads who changed which call
            os.close(os.open(self.db, os.O_CREAT | os.O_WRONLY, 0o600))
        with self._con() as con:
            con.execute("PRAGMA journal_mode=WAL")
            con.execute(_DDL)
            con.execute(_INDEX)

    @contextmanager
    def _con(self) -> Iterator[sqlite3.Connection]:
        with closing(sqlite3.connect(self.db, timeout=10, isolation_level=None)) as con:
            con.execute("PRAGMA busy_timeout=10000")
            yield con

    def set(
        self,
        period: str,
        level: Level,
        target: str,
        amount: float | None,
        comment: str,
        username: str,
        role: str,
    ) -> Change:
        """Record a new call (None: clear it) for ``target``; returns the trail's new row."""
        if level not in LEVELS:
            raise ValueError(f"level must be one of {LEVELS}; got {level!r}")
        with self._con() as con:
            con.execute("BEGIN IMMEDIATE")
            try:
                row = con.execute(
                    "SELECT new_amount FROM adjustments WHERE period = ? AND level = ? AND "
                    "target = ? ORDER BY id DESC LIMIT 1",
                    [period, level, target],
                ).fetchone()
                old = row[0] if row else None
                now = time.time()
                cur = con.execute(
                    "INSERT INTO adjustments (period, level, target, old_amount, new_amount, "
                    "comment, username, role, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [period, level, target, old, amount, comment, username, role, now],
                )
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
        return Change(int(cur.lastrowid or 0), period, level, target, old, amount, comment,
                      username, role, now)  # fmt: skip

    def current(self, period: str) -> dict[tuple[str, str], float]:
        """``(level, target)`` → the adjusted call now in force in ``period``."""
        with self._con() as con:
            rows = con.execute(
                "SELECT level, target, new_amount FROM adjustments a WHERE period = ? AND id = "
                "(SELECT max(id) FROM adjustments b WHERE b.period = a.period AND "
                "b.level = a.level AND b.target = a.target)",
                [period],
            ).fetchall()
        return {(str(lv), str(tg)): float(v) for lv, tg, v in rows if v is not None}

    def trail(self, period: str) -> list[Change]:
        """Every change of ``period``, newest first."""
        with self._con() as con:
            rows = con.execute(
                "SELECT id, period, level, target, old_amount, new_amount, comment, username, "
                "role, at FROM adjustments WHERE period = ? ORDER BY id DESC",
                [period],
            ).fetchall()
        return [Change(*r) for r in rows]
