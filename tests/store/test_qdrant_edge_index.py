"""The embedded engine's index builds: a child process indexes a copy of a collection and the store swaps it
in. Whatever happens meanwhile, no write is lost, filters stay exact, and the result survives a restart;
directories written before indexing existed still open. Real engine, real child processes, real disk."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import qdrant_edge as qe

from lookalike.domain.filters import FILTER_FIELDS, matches
from lookalike.domain.image import Image, ImageKey
from lookalike.store.qdrant_edge import QdrantEdgeStore, layout

from .conftest import DIM, make_records, random_filter, unit


def contents(store: QdrantEdgeStore, collection: str) -> dict[ImageKey, Image]:
    out, cursor = {}, None
    while True:
        page, cursor = store.scroll(collection, limit=500, cursor=cursor, with_vectors=True)
        out.update((r.key, r) for r in page)
        if cursor is None:
            return out


def assert_holds(store: QdrantEdgeStore, collection: str, expected: dict[ImageKey, Image]) -> None:
    found = contents(store, collection)
    assert found.keys() == expected.keys()
    for key, record in expected.items():
        assert found[key] == record
        assert np.allclose(found[key].vector, record.vector, atol=1e-6)
    assert store.count(collection) == len(expected)


def sealed_segments(root: Path, collection: str) -> int:
    """Segments an index build has written (only those have a vector index directory)."""
    return sum((s / "vector_index").is_dir() for s in (root / collection / "segments").iterdir())


def upsert_directly(shard: qe.EdgeShard, records: list[Image]) -> None:
    """Write as earlier versions of the store did."""
    points = [qe.Point(layout.point_id(r.key), r.vector.tolist(), r.payload()) for r in records]
    shard.update(qe.UpdateOperation.upsert_points(points))


def payload_index_placements(root: Path, collection: str) -> set[str]:
    """How the sealed segments hold their payload indexes: "disk" (memory-mapped) or "ram" (loaded at
    opening), from the segments' own description (the null-value flags are always mapped: left out)."""
    placements = set()
    for segment in (root / collection / "segments").iterdir():
        if (segment / "vector_index").is_dir():
            described = json.loads((segment / "payload_index" / "config.json").read_text())
            assert described["indexed_fields"].keys() == FILTER_FIELDS.keys()
            for indexes in described["indexed_types"].values():
                for index in indexes:
                    if index["index_type"] != "null_index":
                        on_disk = index["storage_type"] == {"mmap": {"is_on_disk": True}}
                        placements.add("disk" if on_disk else "ram")
    return placements


def test_writes_made_while_indexes_build_are_all_kept(tmp_path: Path):
    root = tmp_path / "store"
    store = QdrantEdgeStore(root, index_after=1000)  # builds start in the background as writes go on
    store.ensure_collection("c", DIM)
    expected: dict[ImageKey, Image] = {}
    records = make_records(3000, seed=21)
    pick = random.Random(4)
    for start in range(0, len(records), 50):
        batch = records[start : start + 50]
        store.upsert("c", batch)
        expected.update((r.key, r) for r in batch)
        doomed = pick.sample(sorted(expected, key=repr), 5)
        assert sorted(store.delete("c", doomed), key=repr) == sorted(doomed, key=repr)
        for key in doomed:
            del expected[key]
        overwritten = expected[pick.choice(sorted(expected, key=repr))]
        overwritten.attributes = replace(overwritten.attributes, custom_content=f"again {start}")
        store.upsert("c", [overwritten])
    assert store.build_index("c")  # waits for the build under way, then indexes the rest
    assert sealed_segments(root, "c") >= 1
    assert_holds(store, "c", expected)
    store.close()

    store = QdrantEdgeStore(root)
    try:
        assert_holds(store, "c", expected)
        assert not list(root.glob(".indexing-*")) and not list(root.glob(".retired-*"))
    finally:
        store.close()


def test_an_indexed_collection_honours_filters_exactly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Above FULL_SCAN_POINTS the search walks the HNSW graph over quantised vectors: the ranking becomes
    approximate, but every hit still matches the filter, and a stored vector still finds itself first."""
    monkeypatch.setattr(layout, "FULL_SCAN_POINTS", 300)  # the graph from 300 points on, not 12,000
    store = QdrantEdgeStore(tmp_path, index_after=None)
    try:
        store.ensure_collection("c", DIM)
        records = make_records(2000, seed=8)
        for start in range(0, len(records), 1000):
            store.upsert("c", records[start : start + 1000])
        assert store.build_index("c")
        assert sealed_segments(tmp_path, "c") >= 1
        assert payload_index_placements(tmp_path, "c") == {"disk"}  # not loaded into RAM at every start
        pick = random.Random(3)
        for query in unit(np.random.default_rng(9), 40):
            filter = random_filter(pick, records)
            hits = store.search("c", query, limit=10, filter=filter)
            assert all(matches(filter, hit.image) for hit in hits)
            assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
            assert len(hits) == min(10, sum(matches(filter, r) for r in records))
        for record in pick.sample(records, 20):
            (top,) = store.search("c", record.vector, limit=1)
            assert top.image == record
    finally:
        store.close()


def test_a_directory_written_before_indexing_opens_and_gets_indexed(tmp_path: Path):
    # The layout of earlier versions: exact search over float vectors in RAM, no quantisation, no graph.
    old = qe.EdgeShard.create(
        str(tmp_path / "c"), qe.EdgeConfig(vectors=qe.EdgeVectorParams(size=DIM, distance=qe.Distance.Cosine))
    )
    records = make_records(300, seed=2)
    upsert_directly(old, records)
    old.flush()
    old.close()
    expected = {r.key: r for r in records}

    store = QdrantEdgeStore(tmp_path, index_after=None)
    try:
        assert_holds(store, "c", expected)
        assert store.build_index("c")
        assert_holds(store, "c", expected)
        (top,) = store.search("c", records[7].vector, limit=1)
        assert top.image == records[7]
    finally:
        store.close()


def test_payload_indexes_an_earlier_version_kept_in_ram_move_to_disk(tmp_path: Path):
    """Earlier versions built payload indexes that Qdrant loads into RAM at every start (9 s and 550 MB a
    million records): opening such a collection starts a build that re-creates them on disk."""
    old = qe.EdgeShard.create(str(tmp_path / "c"), layout.edge_config(DIM))
    for name, kind in FILTER_FIELDS.items():  # as earlier versions created them: the type alone
        schema = qe.PayloadSchemaType.Integer if kind is int else qe.PayloadSchemaType.Keyword
        old.update(qe.UpdateOperation.create_field_index(name, schema))
    records = make_records(400, seed=5)
    upsert_directly(old, records)
    old.optimize()
    old.flush()
    old.close()
    assert payload_index_placements(tmp_path, "c") == {"ram"}

    store = QdrantEdgeStore(tmp_path, index_after=10_000)  # nothing unindexed: only the old indexes build
    try:
        builder = store._col("c").builder
        assert builder is not None
        builder.join()
        assert payload_index_placements(tmp_path, "c") == {"disk"}
        assert_holds(store, "c", {r.key: r for r in records})
        pick = random.Random(6)
        for _ in range(40):
            filter = random_filter(pick, records)
            assert store.count("c", filter) == sum(matches(filter, r) for r in records)
    finally:
        store.close()
    store = QdrantEdgeStore(tmp_path, index_after=10_000)
    try:
        assert store._col("c").builder is None  # nothing left to move
    finally:
        store.close()


def test_a_swap_cut_short_is_undone_at_the_next_start(tmp_path: Path):
    store = QdrantEdgeStore(tmp_path)
    store.ensure_collection("c", DIM)
    records = make_records(20)
    store.upsert("c", records)
    store.close()
    # The moment between the two renames of a swap: the collection moved aside, the built copy not in place.
    (tmp_path / "c").rename(tmp_path / ".retired-c")
    (tmp_path / ".indexing-c").mkdir()

    store = QdrantEdgeStore(tmp_path)
    try:
        assert_holds(store, "c", {r.key: r for r in records})
        assert not (tmp_path / ".indexing-c").exists() and not (tmp_path / ".retired-c").exists()
    finally:
        store.close()


def test_closing_the_store_stops_a_build_under_way(tmp_path: Path):
    store = QdrantEdgeStore(tmp_path, index_after=100)
    store.ensure_collection("c", DIM)
    store.upsert("c", make_records(150))  # starts a build
    store.close()  # kills its child, waits for it, and keeps the data
    assert not list(tmp_path.glob(".indexing-*"))
    store = QdrantEdgeStore(tmp_path)
    try:
        assert store.count("c") == 150
    finally:
        store.close()


def test_a_failed_build_is_logged_and_loses_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
):
    monkeypatch.setattr(layout, "copy_shard", lambda source, target: target.mkdir())  # nothing to optimize
    store = QdrantEdgeStore(tmp_path, index_after=100)
    try:
        store.ensure_collection("c", DIM)
        records = make_records(150)
        store.upsert("c", records)  # starts a build, whose child finds no shard
        builder = store._col("c").builder
        assert builder is not None
        builder.join()
        assert "indexing collection c failed" in caplog.text
        assert "the optimizing process exited with 1" in caplog.text
        assert_holds(store, "c", {r.key: r for r in records})
    finally:
        store.close()


def test_the_optimizing_process_is_a_module_entry_point(tmp_path: Path):
    store = QdrantEdgeStore(tmp_path, index_after=None)
    store.ensure_collection("c", DIM)
    records = make_records(400, seed=7)
    store.upsert("c", records)
    store.close()
    run = [sys.executable, "-m", "lookalike.store.qdrant_edge.optimize"]
    assert subprocess.run(run, capture_output=True).returncode == 2  # no directory: usage
    subprocess.run([*run, str(tmp_path / "c")], check=True)
    assert sealed_segments(tmp_path, "c") >= 1
    store = QdrantEdgeStore(tmp_path, index_after=None)
    try:
        assert_holds(store, "c", {r.key: r for r in records})
    finally:
        store.close()
