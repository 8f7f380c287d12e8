"""Requests-per-second limits of instances, behind a small interface.

`SharedRateLimiter` keeps its counts in the data directory, so that every server process on it (the servers
of one catalog on Milvus) counts against the same limit.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

from lookalike.datadir import Database

MICROS = 1_000_000
SCHEMA = "CREATE TABLE IF NOT EXISTS buckets (name TEXT PRIMARY KEY, paid_until INTEGER NOT NULL)"


class RateLimiter(Protocol):
    def admit(self, bucket: str, per_second: int) -> float | None:
        """None if one more request fits `per_second` now, else the seconds until one would."""
        ...

    def forget(self, buckets: Sequence[str]) -> None:
        """Drop the counts of these buckets (those of a deleted instance)."""
        ...

    def close(self) -> None: ...


class SharedRateLimiter:
    """A token bucket per name: `per_second` tokens a second, at most one second's worth saved up.

    A bucket is one number, `paid_until`: the time (microseconds since the epoch) until which the requests
    it admitted have used up its rate. A request moves it on by 1/per_second of a second, and is admitted
    if that leaves it at most a second ahead of now: the tokens left are how much of that second is not yet
    spent. One statement reads and moves it, so two processes never both take the last token."""

    def __init__(self, path: Path, *, wal: bool = False, clock: Callable[[], float] = time.time):
        """`wal`: see `lookalike.datadir.open_database`."""
        self._clock = clock  # the wall clock: processes (and machines) share it
        self._db = Database(path, wal, schema=SCHEMA)

    def admit(self, bucket: str, per_second: int) -> float | None:
        now, cost = round(self._clock() * MICROS), MICROS // per_second
        with self._db.connection() as db:
            admitted = db.execute(
                "INSERT INTO buckets VALUES (:name, :now + :cost) ON CONFLICT (name) DO UPDATE"
                " SET paid_until = max(paid_until, :now) + :cost"
                " WHERE max(paid_until, :now) + :cost <= :now + :second RETURNING paid_until",
                {"name": bucket, "now": now, "cost": cost, "second": MICROS},
            ).fetchall()
            if admitted:
                return None
            paid_until: int
            (paid_until,) = db.execute("SELECT paid_until FROM buckets WHERE name = ?", (bucket,)).fetchone()
        return (max(paid_until, now) + cost - now - MICROS) / MICROS

    def forget(self, buckets: Sequence[str]) -> None:
        with self._db.connection() as db:
            db.executemany("DELETE FROM buckets WHERE name = ?", [(name,) for name in buckets])

    def close(self) -> None:
        self._db.close()
