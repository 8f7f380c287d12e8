"""Index builds of the embedded engine, without stopping the server.

`EdgeShard.optimize()` seals, quantises, indexes, merges and vacuums segments, but holds the GIL for its whole
run (about 15 minutes for a million records on two cores), which would freeze every thread of the server. So
a build copies the shard (the original vectors of sealed segments, which are never written again, by hard
link), a child process (`optimize.py`) optimises the copy, the writes made meanwhile are replayed onto it,
and it is swapped in under the collection's locks (a rename; a swap cut short is undone at the next start,
`layout.recover`). Until then new records are scanned, not walked as a graph.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import qdrant_edge as qe

import lookalike
from lookalike.metrics import index_build
from lookalike.store.qdrant_edge import layout
from lookalike.store.qdrant_edge.collection import Collection
from lookalike.store.qdrant_edge.durability import fsync_dir, fsync_tree

log = logging.getLogger("lookalike.store")

# The child imports this package from where this process did, whatever its sys.path was.
_CHILD_ENV = {
    **os.environ,
    "PYTHONPATH": os.pathsep.join(
        filter(None, [str(Path(lookalike.__file__).resolve().parents[1]), os.environ.get("PYTHONPATH")])
    ),
}


class Indexer:
    """Builds the indexes of the collections under `root`."""

    def __init__(self, root: Path):
        self.root = root

    def start(self, col: Collection) -> None:
        """Start a build in the background unless one is under way (under the write lock, or while the
        collection is not yet shared)."""
        if col.builder is None:
            col.builder = threading.Thread(target=self._build_quietly, args=(col,), daemon=True)
            col.builder.start()

    def build(self, col: Collection) -> bool:
        """Build now, after the build under way if there is one; False if the collection closed meanwhile."""
        while True:
            with col.write_lock:
                running = col.builder
                if running is None:
                    col.builder = threading.current_thread()
                    break
            running.join()  # a build started by writes: this one indexes what it has not
        try:
            return self._build(col)
        finally:
            col.builder = None

    def _build_quietly(self, col: Collection) -> None:
        try:
            self._build(col)
        except Exception:  # the data is untouched; the next writes start another build
            log.exception("indexing collection %s failed", col.name)
        finally:
            col.builder = None

    def _build(self, col: Collection) -> bool:
        with index_build():
            return self._build_timed(col)

    def _build_timed(self, col: Collection) -> bool:
        staging = layout.indexing(self.root, col.name)
        try:
            with col.write_lock:  # lock order: see `collection`
                if col.closed:
                    return False
                col.flush()
                shutil.rmtree(staging, ignore_errors=True)
                layout.copy_shard(col.path, staging)
                col.recording, col.unindexed = [], 0
                col.child = subprocess.Popen(
                    [sys.executable, "-m", "lookalike.store.qdrant_edge.optimize", str(staging)],
                    env=_CHILD_ENV,
                    stderr=subprocess.PIPE,
                    text=True,
                )
            _, errors = col.child.communicate()
            if col.child.returncode != 0:
                if col.closed:
                    return False
                raise RuntimeError(f"the optimizing process exited with {col.child.returncode}: {errors}")
            layout.read_ahead(staging)  # loading holds the GIL, which stops every search: keep it short
            built = qe.EdgeShard.load(str(staging))
            try:
                done = _replay(built, col.recording, 0)  # most of the writes made meanwhile, not blocking
                fsync_tree(staging)  # the copied files; what changes from here on, Qdrant's flush syncs
                with col.write_lock, col.commit.lock:
                    if col.closed:
                        return False
                    _replay(built, col.recording, done)
                    built.flush()
                    built.close()  # (closing twice is harmless)
                    with col.gate.swapping():
                        self._swap(col, staging)
            finally:
                built.close()
        finally:
            col.recording = col.child = None
            shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(layout.retired(self.root, col.name))
        return True

    def _swap(self, col: Collection, staging: Path) -> None:
        """Put the built copy in place of the shard (under every lock of the collection)."""
        col.shard.close()
        col.path.rename(layout.retired(self.root, col.name))
        staging.rename(col.path)
        fsync_dir(self.root)
        layout.read_ahead(col.path)
        col.shard = qe.EdgeShard.load(str(col.path))
        col.commit.restart()


def _replay(shard: qe.EdgeShard, operations: list[qe.UpdateOperation] | None, start: int) -> int:
    assert operations is not None
    end = len(operations)
    for operation in operations[start:end]:
        shard.update(operation)
    return end
