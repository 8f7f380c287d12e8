"""The embedded engine's data directory: what it holds, how a shard is configured, and how it is read.

    root/.lock                 flock of the one process that owns the directory
    root/<name>/               a collection: one Qdrant Edge shard (its config in edge_config.json)
    root/.creating-<name>/     a collection being made, renamed into place when complete
    root/.dropping-<name>-<x>/ a collection being deleted, renamed out of place first
    root/.indexing-<name>/     the copy an index build works on
    root/.retired-<name>/      the collection an index swap moved aside

Each rename leaves a complete collection at `root/<name>`, or its parts where `recover` finds them.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import uuid
from pathlib import Path

import qdrant_edge as qe

from lookalike.domain.filters import FILTER_FIELDS
from lookalike.domain.image import ImageKey

# HNSW graph: links per point, and candidates while building.
HNSW_M, HNSW_EF_CONSTRUCT = 16, 100
# A segment, or a filter's matches, up to this many points is scanned instead of walked as a graph: that is
# what keeps small filters (1 % of a million) exact.
FULL_SCAN_POINTS = 12_000
# Sealed segments allowed before the smallest are merged by the next build.
SEGMENTS = 8
# The id of an image is uuid5(_ID_NAMESPACE, json [product_id, pic_name]): part of the on-disk format.
_ID_NAMESPACE = uuid.UUID("5b0c1f36-2a8e-4f4e-9d1e-6c1f0c8a7d42")
# A sealed segment's original vectors, quantised codes and graph (appendable segments name theirs otherwise).
_WRITTEN_ONCE = frozenset({"matrix.dat", "quantized.data", "links_compressed.bin"})
# What of those Qdrant loads whole when it opens a shard: the codes (into RAM) and the graph (mapped).
_LOADED_WHOLE = ("vector_storage/quantized.data", "vector_index/links_compressed.bin")
_READ_SIZE = 8 << 20


class DataDirectoryLocked(OSError):
    """Another process (or another store in this one) owns the data directory: a resource busy, which the
    command line reports in one line as it does every OSError."""


def lock_directory(root: Path) -> int:
    """The descriptor holding the directory's flock (closing it releases the lock)."""
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


def creating(root: Path, name: str) -> Path:
    return root / f".creating-{name}"


def dropping(root: Path, name: str) -> Path:
    return root / f".dropping-{name}-{uuid.uuid4().hex}"


def indexing(root: Path, name: str) -> Path:
    return root / f".indexing-{name}"


def retired(root: Path, name: str) -> Path:
    return root / f".retired-{name}"


def recover(root: Path) -> None:
    """Finish or undo what a process cut short in `root` (run before any collection is opened)."""
    for leftover in (*root.glob(".creating-*"), *root.glob(".dropping-*"), *root.glob(".indexing-*")):
        shutil.rmtree(leftover, ignore_errors=True)
    for moved in root.glob(".retired-*"):  # an index swap cut short: either copy is complete
        live = root / moved.name.removeprefix(".retired-")
        if live.exists():
            shutil.rmtree(moved)
        else:
            moved.rename(live)


def edge_config(dim: int) -> qe.EdgeConfig:
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


def stored_dim(path: Path) -> int | None:
    """The vector size of the collection at `path`; None if there is no complete collection there."""
    config = path / "edge_config.json"  # the shard's config, persisted by Qdrant Edge (documented)
    if not config.exists():
        return None
    return int(json.loads(config.read_text())["vectors"][""]["size"])


def point_id(key: ImageKey) -> str:
    return str(uuid.uuid5(_ID_NAMESPACE, json.dumps([key.product_id, key.pic_name])))


# -- payload indexes -----------------------------------------------------------------------------------------


def _index_params(kind: type) -> qe.IntegerIndexParams | qe.KeywordIndexParams:
    """A payload index on disk (memory-mapped, read as filters need it): exact whatever its placement."""
    if kind is int:
        return qe.IntegerIndexParams(lookup=True, range=True, memory=qe.Memory.Cold)
    return qe.KeywordIndexParams(memory=qe.Memory.Cold)


def missing_indexes(shard: qe.EdgeShard) -> list[str]:
    existing = shard.info().payload_schema
    return [name for name in FILTER_FIELDS if name not in existing]


def stale_indexes(shard: qe.EdgeShard) -> list[str]:
    """Fields whose payload index is in an older form (in RAM: no parameters, or other ones)."""
    existing = shard.info().payload_schema
    return [
        name
        for name in FILTER_FIELDS
        if name in existing and getattr(existing[name].params, "memory", None) != qe.Memory.Cold
    ]


def create_indexes(shard: qe.EdgeShard, names: list[str]) -> None:
    """Payload indexes on filterable fields, so that filtered search and count stay exact and fast (one
    already there is replaced)."""
    for name in names:
        shard.update(qe.UpdateOperation.create_field_index(name, _index_params(FILTER_FIELDS[name])))


# -- files ---------------------------------------------------------------------------------------------------


def read_ahead(shard: Path) -> None:
    """Read what Qdrant loads whole at opening into the page cache, with large sequential reads (Qdrant reads
    them by page faults: 15 s to open a million records from a cold cache, 3.7 s after this)."""
    buffer = bytearray(_READ_SIZE)
    for segment in (shard / "segments").iterdir():
        for name in _LOADED_WHOLE:
            try:
                with open(segment / name, "rb", buffering=0) as file:
                    while file.readinto(buffer):
                        pass
            except FileNotFoundError:  # an appendable segment
                continue


def copy_shard(source: Path, target: Path) -> None:
    """A copy another process may change, sharing by hard link the files of sealed segments that are
    written once, when the segment is built, and only read after (most of the bytes)."""

    def link_or_copy(src: str, dst: str) -> None:
        if Path(src).name in _WRITTEN_ONCE:
            os.link(src, dst)
        else:
            shutil.copy2(src, dst)

    shutil.copytree(source, target, copy_function=link_or_copy)
