"""The job table: every bulk job and the meta lines that failed, in `DATA/jobs/jobs.sqlite3`.

Every process on the data directory shares it. Each job has an owner, the registered process that runs it
(`lookalike.datadir.Registration`): only the owner records progress, and another process takes a job over
(`claim`) only from an owner that is gone, so that a job runs in one process at a time.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Literal

from lookalike.datadir import Database

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
    code: str  # '0', or the kind of error of a FAIL (api/codes.py names it on the wire)
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
        self._db = Database(path, wal, schema=SCHEMA)
        with self._db.transaction() as db:  # a table older than owners gets the column, once
            if "owner" not in {row[1] for row in db.execute("PRAGMA table_info(jobs)")}:
                db.execute("ALTER TABLE jobs ADD COLUMN owner TEXT NOT NULL DEFAULT ''")

    def create(self, kind: Kind, instance: str, **columns: str) -> Job:
        """A new PROCESSING job of this process; AlreadyRunning if the instance has one of this kind."""
        now = _now_ms()
        with self._db.transaction() as db:
            running = _select(db, "instance = ? AND kind = ? AND status = 'PROCESSING'", (instance, kind))
            if running:
                raise AlreadyRunning(running[0])
            names = ["kind", "instance", "status", "created_ms", "modified_ms", "owner", *columns]
            values = [kind, instance, "PROCESSING", now, now, self.owner, *columns.values()]
            placeholders = ", ".join("?" * len(names))
            cursor = db.execute(f"INSERT INTO jobs ({', '.join(names)}) VALUES ({placeholders})", values)
            return _job(db, cursor.lastrowid)

    def record(self, job_id: int, number: int, outcome: Outcome) -> Job:
        """One meta line's outcome, committed together with the progress past it; NotOwner if the job
        is another process's now."""
        failed = isinstance(outcome, LineError)
        with self._db.transaction() as db:
            _owned(
                db.execute(
                    "UPDATE jobs SET done = ?, added = added + ?, deleted = deleted + ?,"
                    " failed = failed + ?, modified_ms = ? WHERE id = ? AND owner = ?",
                    (number, outcome == "added", outcome == "deleted", failed, _now_ms(), job_id, self.owner),
                )
            )
            if isinstance(outcome, LineError):
                db.execute(
                    "INSERT OR REPLACE INTO line_errors VALUES (?, ?, ?, ?)",
                    (job_id, outcome.line, outcome.code, outcome.message),
                )
            return _job(db, job_id)

    def update(self, job_id: int, **columns: object) -> Job:
        """Change a job of this process; NotOwner if it is another process's now."""
        assert set(columns) <= {f.name for f in fields(Job)} - {"owner"}, columns
        columns["modified_ms"] = _now_ms()
        assignments = ", ".join(f"{name} = ?" for name in columns)
        with self._db.connection() as db:
            _owned(
                db.execute(
                    f"UPDATE jobs SET {assignments} WHERE id = ? AND owner = ?",
                    [*columns.values(), job_id, self.owner],
                )
            )
            return _job(db, job_id)

    def claim(self, job_id: int, from_owner: str) -> Job | None:
        """Make an unfinished job of `from_owner` this process's; None if it is not (or no longer) that."""
        with self._db.connection() as db:
            taken = db.execute(
                "UPDATE jobs SET owner = ? WHERE id = ? AND owner = ? AND status = 'PROCESSING'",
                (self.owner, job_id, from_owner),
            )
            return _job(db, job_id) if taken.rowcount else None

    def get(self, job_id: int) -> Job | None:
        with self._db.connection() as db:
            return _find(db, job_id)

    def select(self, **equal: object) -> list[Job]:
        """The jobs whose columns have the given values, newest first."""
        assert set(equal) <= {f.name for f in fields(Job)}, equal
        where = " AND ".join(f"{name} = ?" for name in equal) or "1"
        with self._db.connection() as db:
            return _select(db, f"{where} ORDER BY id DESC", list(equal.values()))

    def forget(self, instance: str) -> list[int]:
        """Remove every job of the instance, and their failed lines; the ids of the jobs removed."""
        with self._db.transaction() as db:
            ids = [row[0] for row in db.execute("SELECT id FROM jobs WHERE instance = ?", (instance,))]
            db.execute(
                "DELETE FROM line_errors WHERE job IN (SELECT id FROM jobs WHERE instance = ?)", (instance,)
            )
            db.execute("DELETE FROM jobs WHERE instance = ?", (instance,))
        return ids

    def summary(self) -> list[tuple[str, str, int, int, int]]:
        """(kind, status, jobs, lines done, lines failed) of every kind and status that has jobs."""
        with self._db.connection() as db:
            return db.execute(
                "SELECT kind, status, COUNT(*), SUM(done), SUM(failed) FROM jobs GROUP BY kind, status"
            ).fetchall()

    def line_errors(self, job_id: int) -> list[LineError]:
        with self._db.connection() as db:
            rows = db.execute(
                "SELECT line, code, message FROM line_errors WHERE job = ? ORDER BY line", (job_id,)
            ).fetchall()
        return [LineError(*row) for row in rows]

    def close(self) -> None:
        self._db.close()


def _owned(cursor: sqlite3.Cursor) -> None:
    if cursor.rowcount == 0:
        raise NotOwner


def _select(db: sqlite3.Connection, where: str, args: Sequence[object] = ()) -> list[Job]:
    return [Job(*row) for row in db.execute(f"SELECT {COLUMNS} FROM jobs WHERE {where}", args)]


def _find(db: sqlite3.Connection, job_id: int | None) -> Job | None:
    found = _select(db, "id = ?", (job_id,))
    return found[0] if found else None


def _job(db: sqlite3.Connection, job_id: int | None) -> Job:
    """A job known to exist (just written under the same lock)."""
    job = _find(db, job_id)
    assert job is not None, job_id
    return job
