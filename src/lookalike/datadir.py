"""The data directory as several processes share it: who runs on it, locks by name, and shared databases.

The servers of one catalog on Milvus share one data directory, on one machine or on several through a
network file system whose locks work (NFSv4, for one), and the command line works on it beside them.
Everything here rests on what such a file system gives: POSIX advisory locks, which end with the process
that holds them (on a network file system: when the lock manager's lease of a machine that went away ends),
and atomic renames.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
import socket
import sqlite3
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import BinaryIO

PROCESSES_DIR = "processes"
BUSY_TIMEOUT_SECONDS = 30  # how long a statement waits for another process's transaction


def open_database(path: Path, wal: bool, schema: str = "") -> sqlite3.Connection:
    """A SQLite database of the data directory, in autocommit mode, with `schema` (a script) applied.

    `wal` when every process that opens it runs on this machine: a write-ahead log needs memory shared by
    all of them, which processes on different machines do not have, and costs a tenth of a rollback journal
    (bench/bench_shared.py). Otherwise a rollback journal, which a network file system with working locks
    can share. NORMAL syncs keep the file sound through a power cut, and a commit through a process crash."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None, check_same_thread=False)
    # Processes opening a new file at once: the mode change upgrades a read lock to a write lock, and
    # SQLite answers "locked" at once to all but one rather than let them deadlock. Hence the retries.
    mode = "WAL" if wal else "PERSIST"  # PERSIST: one journal file, kept
    deadline = time.monotonic() + BUSY_TIMEOUT_SECONDS
    while True:
        try:
            db.execute(f"PRAGMA journal_mode={mode}")
            break
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)
    db.execute("PRAGMA synchronous=NORMAL")
    if schema:  # IMMEDIATE: the write lock first, so a concurrent opener waits instead of failing
        try:
            db.executescript(f"BEGIN IMMEDIATE; {schema}; COMMIT;")
        except BaseException:
            if db.in_transaction:
                db.rollback()
            raise
    return db


class Database:
    """A database of the data directory (`open_database`) whose one connection serves every thread of this
    process, one statement or transaction at a time."""

    def __init__(self, path: Path, wal: bool, schema: str = ""):
        self._db = open_database(path, wal, schema)
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def connection(self) -> Iterator[sqlite3.Connection]:
        """The connection, to this thread alone; each statement commits on its own."""
        with self._lock:
            yield self._db

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """The connection, to this thread alone, in one transaction that commits unless the block raises."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")  # the write lock first: no upgrade from a read to fail
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self._db.close()


@contextlib.contextmanager
def written_whole(
    path: Path, *, mode: int = 0o644, exclusive: bool = False, sync: bool = False
) -> Iterator[BinaryIO]:
    """A file to write that appears at `path` whole when the block ends, or not at all if it raises: it is
    written beside it under a temporary name (`.NAME.PID.THREAD.tmp`), then renamed over `path`; or, if
    `exclusive`, linked to it, which fails with FileExistsError when `path` exists. `sync`: on disk first."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode), "wb") as file:
            yield file
            if sync:
                file.flush()
                os.fsync(file.fileno())
        if exclusive:
            path.hardlink_to(tmp)
        else:
            tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


def write_whole(path: Path, data: bytes, *, mode: int = 0o644, exclusive: bool = False) -> None:
    """`data` at `path`, all of it or none (see `written_whole`)."""
    with written_whole(path, mode=mode, exclusive=exclusive) as file:
        file.write(data)


@dataclass(frozen=True)
class Process:
    """A process registered on the data directory."""

    id: str
    url: str | None  # where a server answers; None for the command line
    host: str
    pid: int


class Registration:
    """This process, known to the others while it runs: `DATA/processes/<id>.json`, locked until it ends.

    A process whose file is not locked is gone, whether it stopped or was killed: the lock is the lease,
    and the operating system (or the network file system's lock manager) ends it."""

    def __init__(self, data_dir: Path, url: str | None = None):
        self.root = data_dir / PROCESSES_DIR
        self.root.mkdir(parents=True, exist_ok=True)
        self.process = Process(secrets.token_hex(8), url, socket.gethostname(), os.getpid())
        self._fd = -1
        try:
            with written_whole(self._path(self.process.id)) as file:
                # Locked before it takes its name, so that nobody sees it unlocked and takes it for a dead
                # one's; the lock lasts while this duplicate of the descriptor stays open.
                self._fd = os.dup(file.fileno())
                fcntl.flock(self._fd, fcntl.LOCK_EX)
                file.write(json.dumps(asdict(self.process)).encode())
        except BaseException:
            self.close()
            raise

    @property
    def id(self) -> str:
        return self.process.id

    def is_alive(self, process_id: str) -> bool:
        """Whether the process registered as `process_id` still runs."""
        return process_id == self.id or _read_if_alive(self._path(process_id)) is not None

    def close(self) -> None:
        if self._fd >= 0:
            self._path(self.id).unlink(missing_ok=True)
            os.close(self._fd)  # releases the lock
            self._fd = -1

    def _path(self, process_id: str) -> Path:
        return self.root / f"{process_id}.json"


def live_processes(data_dir: Path) -> list[Process]:
    """Every process registered on the data directory that still runs, oldest first."""
    paths = sorted((data_dir / PROCESSES_DIR).glob("*.json"), key=_modified)
    return [process for path in paths if (process := _read_if_alive(path)) is not None]


def _read_if_alive(path: Path) -> Process | None:
    """The registration in `path` if its process runs; the file of a gone process is removed."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:  # held: the process runs
        return Process(**json.loads(path.read_bytes()))
    else:
        path.unlink(missing_ok=True)
        return None
    finally:
        os.close(fd)


def _modified(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except FileNotFoundError:
        return 0.0


class NamedLocks:
    """Locks by name that exclude every thread of every process on the data directory: `DATA/locks/<name>`.

    A thread lock comes first: a network file system's locks belong to a process, not to a file handle, and
    would not keep two threads of one process apart."""

    def __init__(self, root: Path):
        self.root = root
        self._threads: dict[str, threading.Lock] = {}
        self._files: dict[str, int] = {}  # kept open: closing a file would drop this process's lock on it

    @contextlib.contextmanager
    def hold(self, name: str) -> Iterator[None]:
        with self._threads.setdefault(name, threading.Lock()):
            fd = self._files.get(name)
            if fd is None:
                self.root.mkdir(parents=True, exist_ok=True)
                fd = self._files[name] = os.open(self.root / name, os.O_RDWR | os.O_CREAT, 0o644)
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)

    def close(self) -> None:
        for fd in self._files.values():
            os.close(fd)
        self._files.clear()
