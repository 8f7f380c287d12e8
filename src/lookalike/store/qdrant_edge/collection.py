"""One open collection of the embedded engine: its shard, its locks, and the state of its index build.

Lock order. A thread that holds one of these locks takes only locks further down the list:
  1. the service's lock of the instance (`datadir.NamedLocks`), held around a write and its checks;
  2. the store's lock (`QdrantEdgeStore._lock`), held to open, drop or close collections;
  3. a collection's write lock: one write at a time, applied and given its ticket; an index build holds it
     to copy the shard, and again (with 4 and 5) to replay the last writes and swap the copy in;
  4. its sync lock (`GroupCommit.lock`): one sync or flush at a time; a write syncs after its write lock;
  5. its gate, as the swapper: reads pass the gate holding nothing else.
"""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import qdrant_edge as qe

from lookalike.store.qdrant_edge.durability import GroupCommit


class Gate:
    """Many readers at once, or one swapper alone (who waits for the readers in flight)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers = 0
        self._swapping = False

    @contextmanager
    def reading(self) -> Iterator[None]:
        with self._cond:
            self._cond.wait_for(lambda: not self._swapping)
            self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                self._cond.notify_all()

    @contextmanager
    def swapping(self) -> Iterator[None]:
        with self._cond:
            self._swapping = True
            self._cond.wait_for(lambda: self._readers == 0)
        try:
            yield
        finally:
            with self._cond:
                self._swapping = False
                self._cond.notify_all()


@dataclass(eq=False)
class Collection:
    path: Path
    shard: qe.EdgeShard
    dim: int
    commit: GroupCommit
    gate: Gate = field(default_factory=Gate)  # reads pass; an index swap waits for them
    write_lock: threading.Lock = field(default_factory=threading.Lock)
    unindexed: int = 0  # records written since the last index build began
    builder: threading.Thread | None = None  # the index build under way
    child: subprocess.Popen[str] | None = None  # its optimizing process
    recording: list[qe.UpdateOperation] | None = None  # writes since the copy the build works on
    closed: bool = False

    @property
    def name(self) -> str:
        return self.path.name

    def apply(self, operation: qe.UpdateOperation) -> None:
        """Apply a write (under the write lock), recording it for the index build under way."""
        self.shard.update(operation)
        if self.recording is not None:
            self.recording.append(operation)

    def flush(self) -> None:
        self.shard.flush()

    def retire(self) -> None:
        """Close the collection for good, stopping its index build."""
        with self.write_lock, self.commit.lock:
            self.closed = True
            if self.child is not None:
                self.child.kill()
            if self.commit.unflushed:  # else there is nothing to write back: closing syncs what is mapped
                self.shard.flush()
            self.shard.close()
        builder = self.builder
        if builder is not None and builder is not threading.current_thread():
            builder.join()
