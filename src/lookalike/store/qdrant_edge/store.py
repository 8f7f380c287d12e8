"""The embedded engine: one Qdrant Edge shard per collection, in `root/<name>/`, inside this process.

What Qdrant Edge guarantees and what this package adds (qdrant-edge-py 0.9, measured with strace and SIGKILL):

- `EdgeShard.update` applies the change to the segments, so the next read sees it; `durability` makes it
  survive a crash of the machine too, with a group commit of the write-ahead log.
- Qdrant Edge refuses a second opener of one shard (its WAL lock) with an obscure error, and only when that
  shard is opened; an exclusive flock on `root/.lock` refuses a second process for the whole directory.
- Vectors: the originals on disk, 2-bit TurboQuant codes in RAM (320 B at 1280-d), and an HNSW graph over
  each sealed segment. A search walks the graphs on the codes and rescores the best 4 x limit candidates
  with the originals; filters are always applied exactly (only the ranking is approximate), and a filter
  matching few points, or a collection of few points, is scanned instead (exact).
- Payload indexes (one per filterable field) stay on disk, memory-mapped and read as filters need them: in
  RAM they cost 550 MB, and 9 s of loading at every start, per million records. A directory written with
  indexes in RAM has them rebuilt on disk by its next index build, which opening it starts.
- Opening first reads the codes and graphs of sealed segments into the page cache (`layout.read_ahead`).
  Opening holds the GIL throughout, so every thread of the process waits for it.
- Indexing runs in a child process on a copy, swapped in when done (`indexer`).
- The shard is safe to call from several threads and releases the GIL while it works; writes to one
  collection take a lock so that `delete` and `delete_by_filter` report exactly what they removed. The
  order in which locks are taken is written once, in `collection`.
"""

from __future__ import annotations

import os
import shutil
import threading
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
import qdrant_edge as qe

from lookalike.domain.filters import Filter
from lookalike.domain.image import Hit, Image, ImageKey
from lookalike.store.base import Capabilities, check_collection_name, vector_values
from lookalike.store.qdrant_edge import layout
from lookalike.store.qdrant_edge.collection import Collection
from lookalike.store.qdrant_edge.durability import GroupCommit, fsync_dir
from lookalike.store.qdrant_edge.filters import compile_filter, compile_optional
from lookalike.store.qdrant_edge.indexer import Indexer

if TYPE_CHECKING:
    from qdrant_edge import PointId  # declared by its type stubs only

# Records written since the last index build that start the next one (until then they are scanned).
INDEX_AFTER = 10_000
# Candidates a search follows in the graph, and quantised candidates rescored with the originals per result.
HNSW_EF, OVERSAMPLING = 128, 4.0
_EXACT = qe.SearchParams(exact=True)
_SEARCH_PARAMS = qe.SearchParams(
    hnsw_ef=HNSW_EF,
    quantization=qe.QuantizationSearchParams(rescore=True, oversampling=OVERSAMPLING),
    acorn=qe.AcornSearchParams(enable=True),  # under filters keeping < 40 %, also neighbours' neighbours
)
_KEY_FIELDS = ["product_id", "pic_name"]
_SCROLL_PAGE = 1024
T = TypeVar("T")


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
        self._lock_fd = layout.lock_directory(self.root)
        self._lock = threading.Lock()  # the opening, dropping and closing of collections (lock order: 2)
        self._collections: dict[str, Collection] = {}
        self._indexer = Indexer(self.root)
        self._closed = False
        layout.recover(self.root)

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
                col.retire()
            path = self.root / name
            if path.exists():
                # Renamed first, so that a crash midway leaves no half-deleted collection behind.
                doomed = layout.dropping(self.root, name)
                path.rename(doomed)
                fsync_dir(self.root)
                shutil.rmtree(doomed)

    def _col(self, name: str) -> Collection:
        col = self._collections.get(name)
        if col is None:
            with self._lock:
                self._check_open()
                col = self._collections.get(name) or self._load(name)
            if col is None:
                raise KeyError(f"no collection {name!r}; ensure_collection creates it")
        return col

    def _load(self, name: str) -> Collection | None:
        path = self.root / name
        dim = layout.stored_dim(path)
        if dim is None:
            return None
        layout.read_ahead(path)
        # The config given upgrades a directory written before indexing: its next build quantises and indexes.
        shard = qe.EdgeShard.load(str(path), layout.edge_config(dim))
        layout.create_indexes(shard, layout.missing_indexes(shard))
        info = shard.info()
        col = self._collections[name] = Collection(path, shard, dim, GroupCommit(path / "wal"))
        col.unindexed = info.points_count - info.indexed_vectors_count
        if layout.stale_indexes(shard) and self.index_after is not None:  # moved to disk by a build
            self._indexer.start(col)
        return col

    def _create(self, name: str, dim: int) -> Collection:
        # Built aside and renamed into place: a collection directory is complete or absent.
        staging = layout.creating(self.root, name)
        shutil.rmtree(staging, ignore_errors=True)
        shard = qe.EdgeShard.create(str(staging), layout.edge_config(dim))
        layout.create_indexes(shard, layout.missing_indexes(shard))
        shard.flush()
        shard.close()
        staging.rename(self.root / name)
        fsync_dir(self.root)
        col = self._load(name)
        assert col is not None
        return col

    # -- writes --------------------------------------------------------------------------------------------

    def upsert(self, collection: str, records: Sequence[Image]) -> None:
        col = self._col(collection)
        if not records:
            return
        points = [
            qe.Point(layout.point_id(r.key), vector_values(r.vector, col.dim), r.payload()) for r in records
        ]

        def write() -> tuple[None, int]:
            col.apply(qe.UpdateOperation.upsert_points(points))
            return None, len(points)

        self._write(col, write)

    def delete(self, collection: str, keys: Sequence[ImageKey]) -> list[ImageKey]:
        col = self._col(collection)
        wanted = {layout.point_id(key): key for key in keys}

        def write() -> tuple[list[ImageKey], int]:
            found = {
                str(r.id) for r in col.shard.retrieve(list(wanted), with_payload=False, with_vector=False)
            }
            if found:
                col.apply(qe.UpdateOperation.delete_points(list(found)))
            return [key for pid, key in wanted.items() if pid in found], len(found)

        return self._write(col, write)

    def delete_by_filter(self, collection: str, filter: Filter) -> list[ImageKey]:
        col = self._col(collection)
        compiled = compile_filter(filter)

        def write() -> tuple[list[ImageKey], int]:
            ids: list[PointId] = []
            keys: list[ImageKey] = []
            offset = None
            while True:
                page, offset = col.shard.scroll(
                    qe.ScrollRequest(
                        offset=offset, limit=_SCROLL_PAGE, filter=compiled, with_payload=_KEY_FIELDS
                    )
                )
                ids.extend(r.id for r in page)
                keys.extend(ImageKey(**_payload(r)) for r in page)
                if offset is None:
                    break
            if ids:
                col.apply(qe.UpdateOperation.delete_points(ids))
            return keys, len(ids)

        return self._write(col, write)

    def _write(self, col: Collection, write: Callable[[], tuple[T, int]]) -> T:
        """Run `write` (which returns its result and how many records it changed) and make it durable."""
        with col.write_lock:  # lock order: see `collection`
            result, changed = write()
            if not changed:
                return result
            ticket = col.commit.ticket(changed)
            col.unindexed += changed
            if self.index_after is not None and col.unindexed >= self.index_after:
                self._indexer.start(col)
        col.commit.sync(ticket, col.flush)
        return result

    # -- reads ---------------------------------------------------------------------------------------------

    def get(self, collection: str, keys: Sequence[ImageKey], *, with_vectors: bool = False) -> list[Image]:
        col = self._col(collection)
        wanted = {layout.point_id(key): key for key in keys}
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
        query, compiled = qe.Query.Nearest(vector_values(vector, col.dim)), compile_optional(filter)

        def request(params: qe.SearchParams) -> qe.QueryRequest:
            return qe.QueryRequest(
                limit=limit, offset=offset, query=query, filter=compiled, with_payload=True, params=params
            )

        with col.gate.reading():
            small = col.shard.info().points_count <= layout.FULL_SCAN_POINTS  # then exact is cheap enough
            points = col.shard.query(request(_EXACT if small else _SEARCH_PARAMS))
            # A graph walk under a filter can strand before it found `limit` matches: then the matches are
            # scanned, so that a search never returns fewer results than there are.
            if not small and compiled is not None and len(points) < limit:
                matches = col.shard.count(qe.CountRequest(exact=True, filter=compiled))
                points = col.shard.query(request(_EXACT)) if matches > offset + len(points) else points
        return [Hit(Image.from_payload(_payload(p)), float(p.score)) for p in points]

    def scroll(
        self,
        collection: str,
        *,
        filter: Filter | None = None,
        limit: int = 256,
        cursor: str | None = None,
        with_vectors: bool = False,
    ) -> tuple[list[Image], str | None]:
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
            filter=compile_optional(filter),
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
            with col.commit.lock:
                col.flush()

    def ping(self) -> None:
        """In this process: it answers while it is open."""
        self._check_open()

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            for col in self._collections.values():
                col.retire()
            self._collections.clear()
            os.close(self._lock_fd)  # releases the flock

    # -- indexing ------------------------------------------------------------------------------------------

    def build_index(self, collection: str) -> bool:
        """Index and quantise what was written since the last build, in a child process, and swap the result
        in; returns False if the store closed (or the collection was dropped) meanwhile. Writes wait only
        while the shard is copied (its original vectors are hard-linked, the rest copied) and swapped;
        searches only while it is swapped."""
        return self._indexer.build(self._col(collection))

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("the store is closed")


def _record(point: qe.Record, with_vector: bool) -> Image:
    vector = np.asarray(point.vector, dtype=np.float32) if with_vector else None
    return Image.from_payload(_payload(point), vector)


def _payload(point: qe.Record | qe.ScoredPoint) -> dict[str, Any]:
    assert point.payload is not None  # every read asks for the payload
    return point.payload
