"""The embedded engine: one Qdrant Edge shard per collection, in `root/<name>/`, inside this process.

What Qdrant Edge guarantees, and what this module adds (qdrant-edge-py 0.9, measured with strace and SIGKILL):

- `EdgeShard.update` applies the change to the segments, so the next read sees it, and appends it to the
  write-ahead log before returning. The WAL is a memory-mapped file with no msync or fsync per update: an
  acknowledged write survives a crash of the process (its pages are in the kernel's cache) but not a crash of
  the machine. Only `EdgeShard.flush()` syncs it, and that also writes back every segment (15-40 ms).
  So after each write this module fdatasyncs the shard's WAL files (1-5 ms), as a group commit: one sync
  covers every write that had returned before it began. Every FLUSH_EVERY records it flushes the whole shard,
  which lets Qdrant truncate the WAL that a restart would otherwise replay.
- Qdrant Edge refuses a second opener of one shard (its WAL lock) with an obscure error, and only when that
  shard is opened; an exclusive flock on `root/.lock` refuses a second process for the whole directory.
- Vectors: the originals on disk, 2-bit TurboQuant codes in RAM (320 B at 1280-d), and an HNSW graph over
  each sealed segment. A search walks the graphs on the codes and rescores the best 4 x limit candidates
  with the originals; filters are always applied exactly (only the ranking is approximate), and a filter
  matching few points, or a collection of few points, is scanned instead (exact).
- Payload indexes (one per filterable field) stay on disk, memory-mapped and read as filters need them: in
  RAM they cost 550 MB, and 9 s of loading at every start, per million records. A directory written with
  indexes in RAM has them rebuilt on disk by its next index build, which opening it starts.
- Opening first reads the codes and graphs of sealed segments into the page cache with large reads: Qdrant
  reads them by page faults, which from a cold page cache made opening a million records take 15 s (3.7 s
  with this), and drops them from the page cache once loaded, or when it closes the shard. Opening holds
  the GIL throughout, so every thread of the process waits for it.
- Indexing: `EdgeShard.optimize()` seals, quantises, indexes, merges and vacuums segments, but holds the GIL
  for its whole run (about 15 minutes for a million on two cores), which would freeze the server. So once
  INDEX_AFTER records were written, a thread copies the shard (the original vectors of sealed segments,
  which are never written again, by hard link), a child process optimises the copy, the writes made
  meanwhile are replayed onto it, and it is swapped in under the collection's locks (a rename; a swap cut
  short is undone at the next start). Until then new records are scanned, not walked as a graph.
- The shard is safe to call from several threads and releases the GIL while it works; writes to one
  collection take a lock so that `delete` and `delete_by_filter` report exactly what they removed.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import numpy as np
import qdrant_edge as qe

from lookalike.store.base import (
    FILTER_FIELDS,
    And,
    Capabilities,
    Compare,
    Filter,
    Hit,
    ImageKey,
    ImageRecord,
    In,
    Not,
    Or,
    check_collection_name,
    check_value,
    vector_values,
)

# A shard is flushed (segments written back, WAL truncated) once this many records were written since.
FLUSH_EVERY = 4096
# Records written since the last index build that start the next one (until then they are scanned).
INDEX_AFTER = 10_000
# HNSW graph: links per point, and candidates while building.
HNSW_M, HNSW_EF_CONSTRUCT = 16, 100
# Candidates a search follows in the graph, and quantised candidates rescored with the originals per result.
HNSW_EF, OVERSAMPLING = 128, 4.0
# A segment, or a filter's matches, up to this many points is scanned instead of walked as a graph: that is
# what keeps small filters (1 % of a million) exact.
FULL_SCAN_POINTS = 12_000
# Sealed segments allowed before the smallest are merged by the next build.
SEGMENTS = 8
# The id of an image is uuid5(_ID_NAMESPACE, json [product_id, pic_name]): part of the on-disk format.
_ID_NAMESPACE = uuid.UUID("5b0c1f36-2a8e-4f4e-9d1e-6c1f0c8a7d42")
_KEY_FIELDS = ["product_id", "pic_name"]
# Integers up to 2**53 are exact as floats, the only type of Qdrant's range bounds.
_EXACT_INT = 2**53
_RANGE = {">": "gt", ">=": "gte", "<": "lt", "<=": "lte"}
_NOTHING = qe.Filter(must=[qe.HasIdCondition(set())])  # matches no point
_SCROLL_PAGE = 1024
T = TypeVar("T")


class DataDirectoryLocked(RuntimeError):
    """Another process (or another store in this one) owns the data directory."""


class _Gate:
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
class _Collection:
    path: Path
    shard: qe.EdgeShard
    dim: int
    gate: _Gate = field(default_factory=_Gate)  # reads pass; an index swap waits for them
    write_lock: threading.Lock = field(default_factory=threading.Lock)
    sync_lock: threading.Lock = field(default_factory=threading.Lock)
    written: int = 0  # writes applied to the shard (tickets handed out)
    synced: int = 0  # writes known to be on disk
    unflushed: int = 0  # records written since the last full flush
    wal_names: frozenset[str] = frozenset()  # the WAL files whose directory entries are known synced
    unindexed: int = 0  # records written since the last index build began
    builder: threading.Thread | None = None  # the index build under way
    child: subprocess.Popen | None = None  # its optimizing process
    recording: list[qe.UpdateOperation] | None = None  # writes since the copy the build works on
    closed: bool = False


class QdrantEdgeStore:
    """The `Store` protocol on Qdrant Edge; one process owns `root`."""

    # The engine has no hard limit; the cost of a search grows with offset + limit.
    capabilities = Capabilities(max_window=10_000, shared=False)  # one process owns the directory

    def __init__(self, root: Path, *, index_after: int | None = INDEX_AFTER):
        """`index_after`: records written that start an index build in the background (None: only
        `build_index` builds)."""
        self.root = Path(root)
        self.index_after = index_after
        self.root.mkdir(parents=True, exist_ok=True)
        self._lock_fd = _lock_directory(self.root)
        self._lock = threading.Lock()  # guards the opening, dropping and closing of collections
        self._collections: dict[str, _Collection] = {}
        self._closed = False
        for leftover in self.root.glob(".creating-*"):  # an ensure_collection that never returned
            shutil.rmtree(leftover, ignore_errors=True)
        for leftover in self.root.glob(".dropping-*"):  # a drop_collection cut short
            shutil.rmtree(leftover, ignore_errors=True)
        for retired in self.root.glob(".retired-*"):  # an index swap cut short: either copy is complete
            live = self.root / retired.name.removeprefix(".retired-")
            if live.exists():
                shutil.rmtree(retired)
            else:
                retired.rename(live)
        for leftover in self.root.glob(".indexing-*"):  # an index build cut short
            shutil.rmtree(leftover, ignore_errors=True)

    # -- collections ---------------------------------------------------------------------------------------

    def ensure_collection(self, name: str, dim: int) -> None:
        check_collection_name(name)
        if dim < 1:
            raise ValueError(f"a vector needs at least one dimension, not {dim}")
        with self._lock:
            self._check_open()
            col = self._collections.get(name) or self._load(name) or self._create(name, dim)
        if col.dim != dim:
            raise ValueError(f"collection {name!r} holds {col.dim}-dimensional vectors, not {dim}")

    def drop_collection(self, name: str) -> None:
        check_collection_name(name)
        with self._lock:
            self._check_open()
            col = self._collections.pop(name, None)
            if col is not None:
                _retire(col)
            path = self.root / name
            if path.exists():
                # Renamed first, so that a crash midway leaves no half-deleted collection behind.
                doomed = self.root / f".dropping-{name}-{uuid.uuid4().hex}"
                path.rename(doomed)
                _fsync_dir(self.root)
                shutil.rmtree(doomed)

    def _col(self, name: str) -> _Collection:
        col = self._collections.get(name)
        if col is None:
            with self._lock:
                self._check_open()
                col = self._collections.get(name) or self._load(name)
            if col is None:
                raise KeyError(f"no collection {name!r}; ensure_collection creates it")
        return col

    def _load(self, name: str) -> _Collection | None:
        path = self.root / name
        config = path / "edge_config.json"  # the shard's config, persisted by Qdrant Edge (documented)
        if not config.exists():
            return None
        dim = json.loads(config.read_text())["vectors"][""]["size"]
        _read_ahead(path)
        # The config given upgrades a directory written before indexing: its next build quantises and indexes.
        shard = qe.EdgeShard.load(str(path), _edge_config(dim))
        _create_indexes(shard, _missing_indexes(shard))
        info = shard.info()
        col = self._collections[name] = _Collection(path, shard, dim)
        col.unindexed = info.points_count - info.indexed_vectors_count
        if _stale_indexes(shard) and self.index_after is not None:  # moved to disk by a build
            self._start_build(col)
        return col

    def _create(self, name: str, dim: int) -> _Collection:
        # Built aside and renamed into place: a collection directory is complete or absent.
        staging = self.root / f".creating-{name}"
        shutil.rmtree(staging, ignore_errors=True)
        shard = qe.EdgeShard.create(str(staging), _edge_config(dim))
        _create_indexes(shard, _missing_indexes(shard))
        shard.flush()
        shard.close()
        staging.rename(self.root / name)
        _fsync_dir(self.root)
        col = self._load(name)
        assert col is not None
        return col

    # -- writes --------------------------------------------------------------------------------------------

    def upsert(self, collection: str, records: Sequence[ImageRecord]) -> None:
        col = self._col(collection)
        if not records:
            return
        points = [qe.Point(_point_id(r.key), vector_values(r.vector, col.dim), r.payload()) for r in records]

        def write() -> tuple[None, int]:
            _apply(col, qe.UpdateOperation.upsert_points(points))
            return None, len(points)

        self._write(col, write)

    def delete(self, collection: str, keys: Sequence[ImageKey]) -> list[ImageKey]:
        col = self._col(collection)
        wanted = {_point_id(key): key for key in keys}

        def write() -> tuple[list[ImageKey], int]:
            found = {
                str(r.id) for r in col.shard.retrieve(list(wanted), with_payload=False, with_vector=False)
            }
            if found:
                _apply(col, qe.UpdateOperation.delete_points(list(found)))
            return [key for pid, key in wanted.items() if pid in found], len(found)

        return self._write(col, write)

    def delete_by_filter(self, collection: str, filter: Filter) -> list[ImageKey]:
        col = self._col(collection)
        compiled = compile_filter(filter)

        def write() -> tuple[list[ImageKey], int]:
            ids, keys, offset = [], [], None
            while True:
                page, offset = col.shard.scroll(
                    qe.ScrollRequest(
                        offset=offset, limit=_SCROLL_PAGE, filter=compiled, with_payload=_KEY_FIELDS
                    )
                )
                ids.extend(str(r.id) for r in page)
                keys.extend(ImageKey(r.payload["product_id"], r.payload["pic_name"]) for r in page)
                if offset is None:
                    break
            if ids:
                _apply(col, qe.UpdateOperation.delete_points(ids))
            return keys, len(ids)

        return self._write(col, write)

    def _write(self, col: _Collection, write: Callable[[], tuple[T, int]]) -> T:
        """Run `write` (which returns its result and how many records it changed) and make it durable."""
        with col.write_lock:
            result, changed = write()
            if not changed:
                return result
            col.written += 1
            ticket = col.written
            col.unflushed += changed
            col.unindexed += changed
            if self.index_after is not None and col.unindexed >= self.index_after:
                self._start_build(col)
        self._sync(col, ticket)
        return result

    def _start_build(self, col: _Collection) -> None:
        """Start an index build in the background unless one is under way (under the write lock, or while
        the collection is not yet shared)."""
        if col.builder is None:
            col.builder = threading.Thread(target=self._build_quietly, args=(col,), daemon=True)
            col.builder.start()

    def _sync(self, col: _Collection, ticket: int) -> None:
        with col.sync_lock:
            if col.synced >= ticket:  # a sync that began after our write returned has covered it
                return
            target = col.written
            if col.unflushed >= FLUSH_EVERY:
                col.unflushed = 0
                col.shard.flush()
            col.wal_names = _fsync_wal(col.path / "wal", col.wal_names)
            col.synced = target

    # -- reads ---------------------------------------------------------------------------------------------

    def get(
        self, collection: str, keys: Sequence[ImageKey], *, with_vectors: bool = False
    ) -> list[ImageRecord]:
        col = self._col(collection)
        wanted = {_point_id(key): key for key in keys}
        if not wanted:
            return []
        with col.gate.reading():
            points = col.shard.retrieve(list(wanted), with_payload=True, with_vector=with_vectors)
        found = {str(r.id): r for r in points}
        return [_record(found[pid], with_vectors) for pid in wanted if pid in found]

    def count(self, collection: str, filter: Filter | None = None) -> int:
        col = self._col(collection)
        with col.gate.reading():
            # Exact counts walk the matches (80 ms for a million): the shard's total is exact (no optimisation
            # ever runs in this process), and a filter matching most is counted by its complement.
            total = col.shard.info().points_count
            if filter is None:
                return total
            compiled = compile_filter(filter)
            if col.shard.count(qe.CountRequest(exact=False, filter=compiled)) <= total // 2:
                return col.shard.count(qe.CountRequest(exact=True, filter=compiled))
            return total - col.shard.count(qe.CountRequest(exact=True, filter=qe.Filter(must_not=[compiled])))

    def search(
        self,
        collection: str,
        vector: np.ndarray,
        *,
        limit: int,
        offset: int = 0,
        filter: Filter | None = None,
    ) -> list[Hit]:
        col = self._col(collection)
        self.capabilities.check_window(offset, limit)
        if limit == 0:
            return []
        query, compiled = qe.Query.Nearest(vector_values(vector, col.dim)), _compile_optional(filter)

        def request(params: qe.SearchParams) -> qe.QueryRequest:
            return qe.QueryRequest(
                limit=limit, offset=offset, query=query, filter=compiled, with_payload=True, params=params
            )

        with col.gate.reading():
            small = col.shard.info().points_count <= FULL_SCAN_POINTS  # then exact is cheap enough
            points = col.shard.query(request(_EXACT if small else _SEARCH_PARAMS))
            # A graph walk under a filter can strand before it found `limit` matches: then the matches are
            # scanned, so that a search never returns fewer results than there are.
            if not small and compiled is not None and len(points) < limit:
                matches = col.shard.count(qe.CountRequest(exact=True, filter=compiled))
                points = col.shard.query(request(_EXACT)) if matches > offset + len(points) else points
        return [Hit(ImageRecord.from_payload(p.payload), float(p.score)) for p in points]

    def scroll(
        self,
        collection: str,
        *,
        filter: Filter | None = None,
        limit: int = 256,
        cursor: str | None = None,
        with_vectors: bool = False,
    ) -> tuple[list[ImageRecord], str | None]:
        col = self._col(collection)
        if limit < 1:
            raise ValueError(f"limit must be positive, not {limit}")
        start = None
        if cursor is not None:
            try:
                start = str(uuid.UUID(cursor))  # the cursor is the id of the next point, in id order
            except ValueError:
                raise ValueError(f"not a scroll cursor: {cursor!r}") from None
        request = qe.ScrollRequest(
            offset=start,
            limit=limit,
            filter=_compile_optional(filter),
            with_payload=True,
            with_vector=with_vectors,
        )
        with col.gate.reading():
            page, following = col.shard.scroll(request)
        return [_record(r, with_vectors) for r in page], None if following is None else str(following)

    # -- lifecycle -----------------------------------------------------------------------------------------

    def flush(self) -> None:
        with self._lock:
            self._check_open()
            collections = list(self._collections.values())
        for col in collections:
            with col.sync_lock:
                col.shard.flush()

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            for col in self._collections.values():
                _retire(col)
            self._collections.clear()
            os.close(self._lock_fd)  # releases the flock

    # -- indexing ------------------------------------------------------------------------------------------

    def build_index(self, collection: str) -> bool:
        """Index and quantise what was written since the last build, in a child process, and swap the result
        in; returns False if the store closed (or the collection was dropped) meanwhile. Writes wait only
        while the shard is copied (its original vectors are hard-linked, the rest copied) and swapped;
        searches only while it is swapped."""
        col = self._col(collection)
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

    def _build_quietly(self, col: _Collection) -> None:
        try:
            self._build(col)
        except Exception as error:  # the data is untouched; the next writes start another build
            print(f"lookalike: indexing {col.path.name} failed: {error}", file=sys.stderr, flush=True)
        finally:
            col.builder = None

    def _build(self, col: _Collection) -> bool:
        staging = self.root / f".indexing-{col.path.name}"
        try:
            with col.write_lock:
                if col.closed:
                    return False
                col.shard.flush()
                shutil.rmtree(staging, ignore_errors=True)
                _copy_shard(col.path, staging)
                col.recording, col.unindexed = [], 0
                col.child = subprocess.Popen(
                    [sys.executable, "-c", _OPTIMIZE, str(staging)],
                    env=_CHILD_ENV,
                    stderr=subprocess.PIPE,
                    text=True,
                )
            _, errors = col.child.communicate()
            if col.child.returncode != 0:
                if col.closed:
                    return False
                raise RuntimeError(f"the optimizing process exited with {col.child.returncode}: {errors}")
            _read_ahead(staging)  # loading holds the GIL, which stops every search meanwhile: keep it short
            built = qe.EdgeShard.load(str(staging))
            try:
                done = _replay(built, col.recording, 0)  # most of the writes made meanwhile, not blocking
                _fsync_tree(staging)  # the copied files; what changes from here on, Qdrant's flush syncs
                with col.write_lock, col.sync_lock:
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
        shutil.rmtree(self._retired(col))
        return True

    def _retired(self, col: _Collection) -> Path:
        return self.root / f".retired-{col.path.name}"

    def _swap(self, col: _Collection, staging: Path) -> None:
        """Put the built copy in place of the shard (under every lock of the collection)."""
        col.shard.close()
        col.path.rename(self._retired(col))
        staging.rename(col.path)
        _fsync_dir(self.root)
        _read_ahead(col.path)
        col.shard = qe.EdgeShard.load(str(col.path))
        col.wal_names = frozenset()
        col.unflushed = 0

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("the store is closed")


# -- filters -------------------------------------------------------------------------------------------------


def compile_filter(tree: Filter) -> qe.Filter:
    """The Qdrant filter matching exactly the records `base.matches(tree, record)` accepts."""
    condition = _condition(tree)
    return condition if isinstance(condition, qe.Filter) else qe.Filter(must=[condition])


def _compile_optional(tree: Filter | None) -> qe.Filter | None:
    return None if tree is None else compile_filter(tree)


def _condition(tree: Filter) -> qe.Filter | qe.FieldCondition:
    match tree:
        case Compare(field=name, op=op, value=value):
            kind = check_value(name, value)
            if op == "=":
                return qe.FieldCondition(name, match=qe.MatchValue(value))
            if op == "!=":  # every record has every field, so "not equal" is "not (equal)"
                return qe.Filter(must_not=[qe.FieldCondition(name, match=qe.MatchValue(value))])
            if op not in _RANGE:
                raise ValueError(f"unknown operator {op!r}")
            if kind is not int:
                raise ValueError(f"{op} compares int fields only, not {name}")
            # Clamped: the answer is the same for stored integers (|x| < 2**53) and the bound stays exact.
            bound = float(min(max(value, -_EXACT_INT), _EXACT_INT))
            return qe.FieldCondition(name, range=qe.RangeFloat(**{_RANGE[op]: bound}))
        case In(field=name, values=values, negated=negated):
            for value in values:
                check_value(name, value)
            inner = qe.FieldCondition(name, match=qe.MatchAny(list(values))) if values else _NOTHING
            return qe.Filter(must_not=[inner]) if negated else inner
        case And(items=items):
            return qe.Filter(must=[_condition(item) for item in items])  # And() matches everything
        case Or(items=items):
            # An empty `should` would match everything in Qdrant; Or() matches nothing.
            return qe.Filter(should=[_condition(item) for item in items]) if items else _NOTHING
        case Not(item=item):
            return qe.Filter(must_not=[_condition(item)])
    raise TypeError(f"not a filter: {tree!r}")


# -- helpers -------------------------------------------------------------------------------------------------

# Run in the child process: Qdrant Edge's optimizer holds the GIL for its whole run (minutes at a million).
_OPTIMIZE = "import sys; from lookalike.store.qdrant_edge import _optimize; _optimize(sys.argv[1])"
# The child imports this module from where this process did, whatever its sys.path was.
_PACKAGES = str(Path(__file__).resolve().parents[2])
_CHILD_ENV = {
    **os.environ,
    "PYTHONPATH": os.pathsep.join(filter(None, [_PACKAGES, os.environ.get("PYTHONPATH")])),
}


def _optimize(path: str) -> None:
    """The child process's work on the copy: payload indexes in their current form, then segments sealed,
    quantised, indexed and merged."""
    os.nice(10)
    shard = qe.EdgeShard.load(path)
    _create_indexes(shard, _stale_indexes(shard))  # re-created on disk: about 3 minutes a million
    shard.optimize()
    shard.flush()
    shard.close()


# A sealed segment's original vectors, quantised codes and graph (appendable segments name theirs otherwise).
_WRITTEN_ONCE = frozenset({"matrix.dat", "quantized.data", "links_compressed.bin"})
# What of those Qdrant loads whole when it opens a shard: the codes (into RAM) and the graph (mapped).
_LOADED_WHOLE = ("vector_storage/quantized.data", "vector_index/links_compressed.bin")
_READ_SIZE = 8 << 20


def _edge_config(dim: int) -> qe.EdgeConfig:
    """Originals on disk; in memory, 2-bit TurboQuant codes (dim / 4 bytes) and the HNSW graph of the
    segments built so far. Filters stay exact whatever the index: only the ranking is approximate."""
    quantised = qe.TurboQuantQuantizationConfig(always_ram=True, bits=qe.TurboQuantBitSize.Bits2)
    return qe.EdgeConfig(
        vectors=qe.EdgeVectorParams(
            size=dim, distance=qe.Distance.Cosine, on_disk=True, quantization_config=quantised
        ),
        hnsw_config=qe.HnswIndexConfig(
            m=HNSW_M,
            ef_construct=HNSW_EF_CONSTRUCT,
            full_scan_threshold=FULL_SCAN_POINTS * dim * 4 // 1024,  # in KB of original vectors
        ),
        optimizers=qe.EdgeOptimizersConfig(default_segment_number=SEGMENTS, indexing_threshold=1),
    )


_EXACT = qe.SearchParams(exact=True)
_SEARCH_PARAMS = qe.SearchParams(
    hnsw_ef=HNSW_EF,
    quantization=qe.QuantizationSearchParams(rescore=True, oversampling=OVERSAMPLING),
    acorn=qe.AcornSearchParams(enable=True),  # under filters keeping < 40 %, also neighbours' neighbours
)


def _apply(col: _Collection, operation: qe.UpdateOperation) -> None:
    """Apply a write (under the collection's write lock), recording it for the index build under way."""
    col.shard.update(operation)
    if col.recording is not None:
        col.recording.append(operation)


def _replay(shard: qe.EdgeShard, operations: list[qe.UpdateOperation] | None, start: int) -> int:
    assert operations is not None
    end = len(operations)
    for operation in operations[start:end]:
        shard.update(operation)
    return end


def _retire(col: _Collection) -> None:
    """Close a collection for good, stopping its index build."""
    with col.write_lock, col.sync_lock:
        col.closed = True
        if col.child is not None:
            col.child.kill()
        col.shard.flush()
        col.shard.close()
    builder = col.builder
    if builder is not None and builder is not threading.current_thread():
        builder.join()


def _copy_shard(source: Path, target: Path) -> None:
    """A copy the child process may change, sharing by hard link the files of sealed segments that are
    written once, when the segment is built, and only read after (most of the bytes)."""

    def link_or_copy(src: str, dst: str) -> None:
        if Path(src).name in _WRITTEN_ONCE:
            os.link(src, dst)
        else:
            shutil.copy2(src, dst)

    shutil.copytree(source, target, copy_function=link_or_copy)


def _fsync_tree(root: Path) -> None:
    for directory, _, files in os.walk(root):
        for name in files:
            fd = os.open(os.path.join(directory, name), os.O_RDONLY)
            try:
                os.fdatasync(fd)
            finally:
                os.close(fd)
        _fsync_dir(Path(directory))


def _read_ahead(shard: Path) -> None:
    """Read what Qdrant loads whole at opening into the page cache, with large sequential reads."""
    buffer = bytearray(_READ_SIZE)
    for segment in (shard / "segments").iterdir():
        for name in _LOADED_WHOLE:
            try:
                with open(segment / name, "rb", buffering=0) as file:
                    while file.readinto(buffer):
                        pass
            except FileNotFoundError:  # an appendable segment
                continue


def _index_params(kind: type) -> qe.IntegerIndexParams | qe.KeywordIndexParams:
    """A payload index on disk (memory-mapped, read as filters need it): exact whatever its placement."""
    if kind is int:
        return qe.IntegerIndexParams(lookup=True, range=True, memory=qe.Memory.Cold)
    return qe.KeywordIndexParams(memory=qe.Memory.Cold)


def _missing_indexes(shard: qe.EdgeShard) -> list[str]:
    existing = shard.info().payload_schema
    return [name for name in FILTER_FIELDS if name not in existing]


def _stale_indexes(shard: qe.EdgeShard) -> list[str]:
    """Fields whose payload index is in an older form (in RAM: no parameters, or other ones)."""
    existing = shard.info().payload_schema
    return [name for name in FILTER_FIELDS if name in existing and not _on_disk(existing[name].params)]


def _on_disk(params: object) -> bool:
    return getattr(params, "memory", None) == qe.Memory.Cold


def _create_indexes(shard: qe.EdgeShard, names: list[str]) -> None:
    """Payload indexes on filterable fields, so that filtered search and count stay exact and fast (one
    already there is replaced)."""
    for name in names:
        shard.update(qe.UpdateOperation.create_field_index(name, _index_params(FILTER_FIELDS[name])))


def _point_id(key: ImageKey) -> str:
    return str(uuid.uuid5(_ID_NAMESPACE, json.dumps([key.product_id, key.pic_name])))


def _record(point: qe.Record, with_vector: bool) -> ImageRecord:
    vector = np.asarray(point.vector, dtype=np.float32) if with_vector else None
    return ImageRecord.from_payload(point.payload, vector)


def _lock_directory(root: Path) -> int:
    path = root / ".lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.read(fd, 32).decode(errors="replace").strip() or "unknown"
        os.close(fd)
        raise DataDirectoryLocked(
            f"{root} is in use by another store (process {holder} holds {path}); "
            "one process owns a data directory"
        ) from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    return fd


def _fsync_wal(wal: Path, known: frozenset[str]) -> frozenset[str]:
    """fdatasync every WAL file (and the directory when its listing changed); returns the listing."""
    for _ in range(3):  # Qdrant may rename or remove a WAL file while we walk the directory
        try:
            names = frozenset(entry.name for entry in os.scandir(wal) if entry.is_file())
            for name in names:
                fd = os.open(wal / name, os.O_RDONLY)
                try:
                    os.fdatasync(fd)
                finally:
                    os.close(fd)
        except FileNotFoundError:
            continue
        if names != known:
            _fsync_dir(wal)
        return names
    raise RuntimeError(f"could not sync the write-ahead log in {wal}: its files keep changing")


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
