"""What only the embedded engine has to show: durability across SIGKILL, one owner per data directory,
crash-safe collection files, and `open_store`. These tests use the real disk (pytest's tmp_path)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from lookalike.domain.image import ImageKey
from lookalike.store import open_store
from lookalike.store.qdrant_edge import DataDirectoryLocked, QdrantEdgeStore

from .conftest import DIM, make_records

# Writes record i, and from the third on deletes record i - 2 as well, printing i once both calls returned.
WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from lookalike.store.qdrant_edge import QdrantEdgeStore
    from tests.store.conftest import DIM, make_records

    store = QdrantEdgeStore(Path(sys.argv[1]))
    store.ensure_collection("c", DIM)
    print("ready", flush=True)
    written = []
    for i, record in enumerate(make_records(10_000, seed=3)):
        record.product_id = f"k{i}"
        store.upsert("c", [record])
        written.append(record.key)
        if i >= 2:
            assert store.delete("c", [written[i - 2]]) == [written[i - 2]]
        print(i, flush=True)
    """
)


def test_acknowledged_writes_survive_sigkill(tmp_path: Path):
    root = tmp_path / "store"
    repo = Path(__file__).resolve().parents[2]
    child = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(root)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=repo,
        env={**os.environ, "PYTHONPATH": str(repo)},
    )
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "ready"
    for line in child.stdout:
        if int(line) >= 150:
            break
    child.send_signal(signal.SIGKILL)
    child.wait()
    # Every line the child printed before it died is an acknowledgement, read or not.
    last = max([int(line), *map(int, child.stdout.read().split())])

    store = QdrantEdgeStore(root)
    try:
        records = make_records(last + 2, seed=3)
        for i, record in enumerate(records):
            record.product_id = f"k{i}"
        # Step `last` returned: its upsert is there and every delete up to it is done.
        assert store.get("c", [records[last].key]) == [records[last]]
        assert store.get("c", [r.key for r in records[: last - 1]]) == []
        # The child may have been killed inside step last + 1 (upsert last + 1, delete last - 1).
        assert store.count("c") in (1, 2, 3)
    finally:
        store.close()


def test_one_store_per_data_directory(tmp_path: Path):
    store = QdrantEdgeStore(tmp_path)
    with pytest.raises(DataDirectoryLocked, match="one process owns a data directory"):
        QdrantEdgeStore(tmp_path)
    other = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, pathlib; from lookalike.store.qdrant_edge import QdrantEdgeStore; "
            "QdrantEdgeStore(pathlib.Path(sys.argv[1]))",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
    )
    assert other.returncode != 0 and "DataDirectoryLocked" in other.stderr
    store.close()
    QdrantEdgeStore(tmp_path).close()  # free again once closed


def test_leftovers_of_an_interrupted_create_or_drop_are_removed(tmp_path: Path):
    (tmp_path / ".creating-half").mkdir(parents=True)
    (tmp_path / ".dropping-gone-123").mkdir()
    store = QdrantEdgeStore(tmp_path)
    try:
        assert not (tmp_path / ".creating-half").exists()
        assert not (tmp_path / ".dropping-gone-123").exists()
        with pytest.raises(KeyError):
            store.count("half")
    finally:
        store.close()


def test_a_collection_opens_lazily_after_a_restart(tmp_path: Path):
    store = QdrantEdgeStore(tmp_path)
    store.ensure_collection("c", DIM)
    store.upsert("c", make_records(3))
    store.close()

    store = QdrantEdgeStore(tmp_path)
    try:
        assert store.count("c") == 3  # no ensure_collection needed to read existing data
        assert store.delete("c", [ImageKey("nope", "x")]) == []
    finally:
        store.close()


@pytest.mark.parametrize("name", ["", ".lock", "../escape", "a/b", "x" * 129, "-dash-first"])
def test_collection_names_are_checked(tmp_path: Path, name: str):
    store = QdrantEdgeStore(tmp_path)
    try:
        with pytest.raises(ValueError):
            store.ensure_collection(name, DIM)
    finally:
        store.close()


def test_a_closed_store_refuses_work(tmp_path: Path):
    store = QdrantEdgeStore(tmp_path)
    store.ensure_collection("c", DIM)
    store.close()
    store.close()  # closing twice is fine
    with pytest.raises(RuntimeError):
        store.ensure_collection("d", DIM)


@pytest.mark.parametrize("uri", [None, "", "qdrant-edge"])
def test_open_store_defaults_to_the_embedded_engine(tmp_path: Path, uri: str | None):
    store = open_store(uri, tmp_path / "data")
    try:
        assert isinstance(store, QdrantEdgeStore)
        assert store.root == tmp_path / "data"
    finally:
        store.close()


def test_open_store_refuses_unknown_uris(tmp_path: Path):
    with pytest.raises(ValueError, match=r"unknown store URI 'postgres://example'.*milvus://"):
        open_store("postgres://example", tmp_path)
