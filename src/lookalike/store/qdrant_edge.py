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
- Search is exact (brute force over the stored vectors) because the segments are never optimised into an HNSW
  graph: `EdgeShard.optimize()` holds the GIL for its whole run (minutes for 20k x 1280 on two cores), which
  would freeze the server. The price: deleted and overwritten points are never vacuumed from disk.
- The shard is safe to call from several threads and releases the GIL while it works; writes to one
  collection take a lock so that `delete` and `delete_by_filter` report exactly what they removed.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import threading
import uuid
from collections.abc import Callable, Sequence
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


@dataclass(eq=False)
class _Collection:
    path: Path
    shard: qe.EdgeShard
    dim: int
    write_lock: threading.Lock = field(default_factory=threading.Lock)
    sync_lock: threading.Lock = field(default_factory=threading.Lock)
    written: int = 0  # writes applied to the shard (tickets handed out)
    synced: int = 0  # writes known to be on disk
    unflushed: int = 0  # records written since the last full flush
    wal_names: frozenset[str] = frozenset()  # the WAL files whose directory entries are known synced


class QdrantEdgeStore:
    """The `Store` protocol on Qdrant Edge; one process owns `root`."""

    # The engine has no hard limit; the cost of a search grows with offset + limit.
    capabilities = Capabilities(max_window=10_000)

    def __init__(self, root: Path):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self._lock_fd = _lock_directory(self.root)
        self._lock = threading.Lock()  # guards the opening, dropping and closing of collections
        self._collections: dict[str, _Collection] = {}
        self._closed = False
        for leftover in self.root.glob(".creating-*"):  # an ensure_collection that never returned
            shutil.rmtree(leftover, ignore_errors=True)
        for leftover in self.root.glob(".dropping-*"):  # a drop_collection cut short
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
                with col.write_lock, col.sync_lock:
                    col.shard.close()
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
        shard = qe.EdgeShard.load(str(path))
        _ensure_indexes(shard)
        col = self._collections[name] = _Collection(path, shard, dim)
        return col

    def _create(self, name: str, dim: int) -> _Collection:
        # Built aside and renamed into place: a collection directory is complete or absent.
        staging = self.root / f".creating-{name}"
        shutil.rmtree(staging, ignore_errors=True)
        config = qe.EdgeConfig(vectors=qe.EdgeVectorParams(size=dim, distance=qe.Distance.Cosine))
        shard = qe.EdgeShard.create(str(staging), config)
        _ensure_indexes(shard)
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
            col.shard.update(qe.UpdateOperation.upsert_points(points))
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
                col.shard.update(qe.UpdateOperation.delete_points(list(found)))
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
                col.shard.update(qe.UpdateOperation.delete_points(ids))
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
        self._sync(col, ticket)
        return result

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
        found = {
            str(r.id): r
            for r in col.shard.retrieve(list(wanted), with_payload=True, with_vector=with_vectors)
        }
        return [_record(found[pid], with_vectors) for pid in wanted if pid in found]

    def count(self, collection: str, filter: Filter | None = None) -> int:
        col = self._col(collection)
        return col.shard.count(qe.CountRequest(exact=True, filter=_compile_optional(filter)))

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
        request = qe.QueryRequest(
            limit=limit,
            offset=offset,
            query=qe.Query.Nearest(vector_values(vector, col.dim)),
            filter=_compile_optional(filter),
            with_payload=True,
            params=qe.SearchParams(exact=True),
        )
        return [Hit(ImageRecord.from_payload(p.payload), float(p.score)) for p in col.shard.query(request)]

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
        page, following = col.shard.scroll(
            qe.ScrollRequest(
                offset=start,
                limit=limit,
                filter=_compile_optional(filter),
                with_payload=True,
                with_vector=with_vectors,
            )
        )
        return [_record(r, with_vectors) for r in page], None if following is None else str(following)

    # -- lifecycle -----------------------------------------------------------------------------------------

    def flush(self) -> None:
        with self._lock:
            self._check_open()
            collections = list(self._collections.values())
        for col in collections:
            col.shard.flush()

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            for col in self._collections.values():
                with col.write_lock, col.sync_lock:
                    col.shard.flush()
                    col.shard.close()
            self._collections.clear()
            os.close(self._lock_fd)  # releases the flock

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


def _ensure_indexes(shard: qe.EdgeShard) -> None:
    """Payload indexes on every filterable field, so that filtered search and count stay exact and fast."""
    existing = shard.info().payload_schema
    for name, kind in FILTER_FIELDS.items():
        if name not in existing:
            schema = qe.PayloadSchemaType.Integer if kind is int else qe.PayloadSchemaType.Keyword
            shard.update(qe.UpdateOperation.create_field_index(name, schema))


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
