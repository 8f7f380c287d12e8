"""Making the embedded engine's acknowledged writes durable, in batches.

`EdgeShard.update` appends each change to a memory-mapped write-ahead log with no msync or fsync: the write
survives a crash of the process (its pages are in the kernel's cache) but not a crash of the machine. Only
`EdgeShard.flush()` syncs it, and that also writes back every segment (15-40 ms). So after each write the
store fdatasyncs the WAL files (1-5 ms), as a group commit: one sync covers every write that had returned
before it began. Every FLUSH_EVERY records it flushes the whole shard instead, which lets Qdrant truncate the
WAL that a restart would otherwise replay.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path

# A shard is flushed (segments written back, WAL truncated) once this many records were written since.
FLUSH_EVERY = 4096


class GroupCommit:
    """The writes applied to one shard, and how many of them are known to be on disk."""

    def __init__(self, wal: Path):
        self.wal = wal
        self.lock = threading.Lock()  # the sync lock: one sync at a time
        self._written = 0  # writes applied to the shard (tickets handed out)
        self._synced = 0  # writes known to be on disk
        self._unflushed = 0  # records written since the last full flush
        self._wal_names: frozenset[str] = frozenset()  # WAL files whose directory entries are known synced

    @property
    def unflushed(self) -> int:
        """Records written since the shard was last flushed whole (or loaded)."""
        return self._unflushed

    def ticket(self, records: int) -> int:
        """The number of a write of `records` records just applied; taken under the write lock."""
        self._written += 1
        self._unflushed += records
        return self._written

    def sync(self, ticket: int, flush: Callable[[], None]) -> None:
        """Return once the write of `ticket` is on disk; `flush` flushes the shard whole. Takes the sync lock,
        never under the write lock (lock order: see `collection`)."""
        with self.lock:
            if self._synced >= ticket:  # a sync that began after our write returned has covered it
                return
            target = self._written
            if self._unflushed >= FLUSH_EVERY:
                self._unflushed = 0
                flush()
            self._wal_names = fsync_wal(self.wal, self._wal_names)
            self._synced = target

    def restart(self) -> None:
        """Forget the WAL: the shard was replaced by one flushed whole (under the sync lock)."""
        self._wal_names = frozenset()
        self._unflushed = 0


def fsync_wal(wal: Path, known: frozenset[str]) -> frozenset[str]:
    """fdatasync every WAL file (and the directory when its listing changed); returns the listing."""
    for _ in range(3):  # Qdrant may rename or remove a WAL file while we walk the directory
        try:
            names = frozenset(entry.name for entry in os.scandir(wal) if entry.is_file())
            for name in names:
                fdatasync(wal / name)
        except FileNotFoundError:
            continue
        if names != known:
            fsync_dir(wal)
        return names
    raise RuntimeError(f"could not sync the write-ahead log in {wal}: its files keep changing")


def fsync_tree(root: Path) -> None:
    for directory, _, files in os.walk(root):
        for name in files:
            fdatasync(Path(directory, name))
        fsync_dir(Path(directory))


def fdatasync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fdatasync(fd)
    finally:
        os.close(fd)


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
