"""Replay protection: a signature nonce may be used once while its request's timestamp is acceptable.

A nonce must be remembered only as long as the clock check would still let its request in, so memory is
bounded by the request rate times that window. `SharedNonceCache` remembers in the data directory, so that
a nonce used at one server process is refused at every other. The memory of nonces belongs to the signature
check, on this side of the wire, not to the domain: so it is here, with its table.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from lookalike.datadir import Database

PRUNE_SECONDS = 60  # how often a process forgets the nonces that expired
SCHEMA = """
CREATE TABLE IF NOT EXISTS nonces (
    access_key_id TEXT, nonce TEXT, expires_at REAL NOT NULL, PRIMARY KEY (access_key_id, nonce)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS nonces_by_expiry ON nonces (expires_at);
"""


class NonceCache(Protocol):
    def first_use(self, access_key_id: str, nonce: str, expires_at: float) -> bool:
        """Record the nonce until `expires_at` (Unix time); False if it is already recorded."""
        ...


class SharedNonceCache:
    def __init__(self, path: Path, *, wal: bool = False, clock: Callable[[], float] = time.time):
        """`wal`: see `lookalike.datadir.open_database`."""
        self._clock = clock
        self._db = Database(path, wal, schema=SCHEMA)
        self._next_prune = 0.0

    def first_use(self, access_key_id: str, nonce: str, expires_at: float) -> bool:
        now = self._clock()
        with self._db.connection() as db:
            if now >= self._next_prune:
                db.execute("DELETE FROM nonces WHERE expires_at <= ?", (now,))
                self._next_prune = now + PRUNE_SECONDS
            # A new nonce is inserted; a known one counts as new only if it has expired.
            recorded = db.execute(
                "INSERT INTO nonces VALUES (?, ?, ?) ON CONFLICT DO UPDATE"
                " SET expires_at = excluded.expires_at WHERE expires_at <= ?",
                (access_key_id, nonce, expires_at, now),
            )
            return recorded.rowcount == 1

    def __len__(self) -> int:
        with self._db.connection() as db:
            return int(db.execute("SELECT count(*) FROM nonces").fetchone()[0])

    def close(self) -> None:
        self._db.close()
