"""The job table: every bulk job and the meta lines that failed, in `DATA/jobs/jobs.sqlite3`.

Every process on the data directory shares it. Each job has an owner, the registered process that runs it
(`lookalike.datadir.Registration`): only the owner records progress, and another process takes a job over
(`claim`) only from an owner that is gone, so that a job runs in one process at a time.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Literal

from lookalike.datadir import open_database

Kind = Literal["dump", "increment"]
Status = Literal["PROCESSING", "SUCCESS", "FAIL"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    instance TEXT NOT NULL,
    status TEXT NOT NULL,
    code TEXT NOT NULL DEFAULT '0',
    message TEXT NOT NULL DEFAULT '',
    bucket TEXT NOT NULL DEFAULT '',
    path TEXT NOT NULL DEFAULT '',
    callback TEXT NOT NULL DEFAULT '',
    created_ms INTEGER NOT NULL,
    modified_ms INTEGER NOT NULL,
    lines INTEGER NOT NULL DEFAULT 0,
    done INTEGER NOT NULL DEFAULT 0,
    added INTEGER NOT NULL DEFAULT 0,
    deleted INTEGER NOT NULL DEFAULT 0,
    failed INTEGER NOT NULL DEFAULT 0,
    owner TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS jobs_of_instance ON jobs (instance, kind, status);
CREATE TABLE IF NOT EXISTS line_errors (
    job INTEGER NOT NULL,
    line INTEGER NOT NULL,
    code TEXT NOT NULL,
    message TEXT NOT NULL,
    PRIMARY KEY (job, line)
);
"""


@dataclass(frozen=True)
class Job:
    id: int
    kind: Kind
    instance: str
    status: Status
    code: str  # '0', or the error code of a FAIL
    message: str  # why it failed; '' otherwise
    bucket: str
    path: str
    callback: str
    created_ms: int
    modified_ms: int
    lines: int  # an import: lines of its increment.meta; an export: images written
    done: int  # an import: lines applied so far
    added: int
    deleted: int
    failed: int
    owner: str = ""  # the id of the process that runs it; '' in a table older than owners


@dataclass(frozen=True)
class LineError:
    line: int
    code: str
    message: str


Outcome = Literal["added", "deleted", "blank"] | LineError
COLUMNS = ", ".join(f.name for f in fields(Job))


class AlreadyRunning(Exception):
    def __init__(self, job: Job):
        super().__init__(f"job {job.id} runs")
        self.job = job


class NotOwner(Exception):
    """The job belongs to another process now: it took the job over from this one."""


def _now_ms() -> int:
    return int(time.time() * 1000)


class JobTable:
    def __init__(self, path: Path, owner: str, *, wal: bool = False):
        """The table at `path`, as seen by the process registered as `owner`; `wal`: see `open_database`."""
        self.owner = owner
        self._db = open_database(path, wal, schema=SCHEMA)
        self._lock = threading.Lock()  # one connection: one statement or transaction at a time
        with self._transaction():  # a table older than owners gets the column, once
            if "owner" not in {row[1] for row in self._db.execute("PRAGMA table_info(jobs)")}:
                self._db.execute("ALTER TABLE jobs ADD COLUMN owner TEXT NOT NULL DEFAULT ''")

    def create(self, kind: Kind, instance: str, **columns: str) -> Job:
        """A new PROCESSING job of this process; AlreadyRunning if the instance has one of this kind."""
        now = _now_ms()
        with self._transaction():
            if running := self._select(
                "instance = ? AND kind = ? AND status = 'PROCESSING'", (instance, kind)
            ):
                raise AlreadyRunning(running[0])
            names = ["kind", "instance", "status", "created_ms", "modified_ms", "owner", *columns]
            values = [kind, instance, "PROCESSING", now, now, self.owner, *columns.values()]
            placeholders = ", ".join("?" * len(names))
            cursor = self._db.execute(
                f"INSERT INTO jobs ({', '.join(names)}) VALUES ({placeholders})", values
            )
            return self._job(cursor.lastrowid)

    def record(self, job_id: int, number: int, outcome: Outcome) -> Job:
        """One meta line's outcome, committed together with the progress past it; NotOwner if the job
        is another process's now."""
        failed = isinstance(outcome, LineError)
        with self._transaction():
            self._owned(
                self._db.execute(
                    "UPDATE jobs SET done = ?, added = added + ?, deleted = deleted + ?,"
                    " failed = failed + ?, modified_ms = ? WHERE id = ? AND owner = ?",
                    (number, outcome == "added", outcome == "deleted", failed, _now_ms(), job_id, self.owner),
                )
            )
            if failed:
                self._db.execute(
                    "INSERT OR REPLACE INTO line_errors VALUES (?, ?, ?, ?)",
                    (job_id, outcome.line, outcome.code, outcome.message),
                )
            return self._job(job_id)

    def update(self, job_id: int, **columns: object) -> Job:
        """Change a job of this process; NotOwner if it is another process's now."""
        assert set(columns) <= {f.name for f in fields(Job)} - {"owner"}, columns
        columns["modified_ms"] = _now_ms()
        assignments = ", ".join(f"{name} = ?" for name in columns)
        with self._lock:
            self._owned(
                self._db.execute(
                    f"UPDATE jobs SET {assignments} WHERE id = ? AND owner = ?",
                    [*columns.values(), job_id, self.owner],
                )
            )
            return self._job(job_id)

    def claim(self, job_id: int, from_owner: str) -> Job | None:
        """Make an unfinished job of `from_owner` this process's; None if it is not (or no longer) that."""
        with self._lock:
            taken = self._db.execute(
                "UPDATE jobs SET owner = ? WHERE id = ? AND owner = ? AND status = 'PROCESSING'",
                (self.owner, job_id, from_owner),
            )
            return self._job(job_id) if taken.rowcount else None

    def get(self, job_id: int) -> Job | None:
        with self._lock:
            return self._job(job_id)

    def select(self, **equal: object) -> list[Job]:
        """The jobs whose columns have the given values, newest first."""
        assert set(equal) <= {f.name for f in fields(Job)}, equal
        where = " AND ".join(f"{name} = ?" for name in equal) or "1"
        with self._lock:
            return self._select(f"{where} ORDER BY id DESC", list(equal.values()))

    def forget(self, instance: str) -> list[int]:
        """Remove every job of the instance, and their failed lines; the ids of the jobs removed."""
        with self._transaction():
            ids = [row[0] for row in self._db.execute("SELECT id FROM jobs WHERE instance = ?", (instance,))]
            self._db.execute(
                "DELETE FROM line_errors WHERE job IN (SELECT id FROM jobs WHERE instance = ?)", (instance,)
            )
            self._db.execute("DELETE FROM jobs WHERE instance = ?", (instance,))
        return ids

    def line_errors(self, job_id: int) -> list[LineError]:
        with self._lock:
            rows = self._db.execute(
                "SELECT line, code, message FROM line_errors WHERE job = ? ORDER BY line", (job_id,)
            ).fetchall()
        return [LineError(*row) for row in rows]

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")  # the write lock first: no upgrade from a read to fail
            try:
                yield
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    @staticmethod
    def _owned(cursor: sqlite3.Cursor) -> None:
        if cursor.rowcount == 0:
            raise NotOwner

    def _select(self, where: str, args: Sequence[object] = ()) -> list[Job]:
        return [Job(*row) for row in self._db.execute(f"SELECT {COLUMNS} FROM jobs WHERE {where}", args)]

    def _job(self, job_id: int) -> Job | None:
        found = self._select("id = ?", (job_id,))
        return found[0] if found else None
