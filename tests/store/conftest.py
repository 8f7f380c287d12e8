"""The store conformance suite runs on every backend listed here, through the `Store` protocol only.

A backend knows how to open a store on its data and how to open it again on the same data (for the
persistence tests). Each test gets a fresh store and a fresh collection; on Milvus, in a database of its own
on the session's server (the `milvus_database` fixture; skipped, saying why, where no Milvus can run).
"""

from __future__ import annotations

import os
import random
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from lookalike.domain.filters import FILTER_FIELDS, And, Compare, Filter, In, Not, Or
from lookalike.domain.image import FILTERABLE_ATTRIBUTES, Attributes, Box, Image
from lookalike.store import open_store
from lookalike.store.base import Store
from lookalike.store.qdrant_edge import QdrantEdgeStore

INT_FIELDS = tuple(name for name, kind in FILTERABLE_ATTRIBUTES.items() if kind is int)
STR_FIELDS = tuple(name for name, kind in FILTERABLE_ATTRIBUTES.items() if kind is str)

DIM = 64


class Backend:
    """Opens stores of one engine on one set of data; closes them all at the end of the test."""

    def __init__(self, name: str, opener: Callable[[], Store]):
        self.name = name
        self._opener = opener
        self._opened: list[Store] = []

    def open(self) -> Store:
        store = self._opener()
        self._opened.append(store)
        return store

    def close_all(self) -> None:
        for store in self._opened:
            store.close()


def _qdrant_edge(request: pytest.FixtureRequest, data: Path) -> Backend:
    return Backend("qdrant-edge", lambda: QdrantEdgeStore(data / "store"))


def _milvus(request: pytest.FixtureRequest, data: Path) -> Backend:
    uri = request.getfixturevalue("milvus_database")
    return Backend("milvus", lambda: open_store(uri, data))


BACKENDS = {"qdrant-edge": _qdrant_edge, "milvus": _milvus}


@pytest.fixture
def data_dir(tmp_path: Path) -> Iterator[Path]:
    """A scratch directory, in memory (tmpfs) when the machine has one.

    The suite checks behaviour; on this machine's disk an fsync takes ~4 ms and a new collection needs dozens
    (one payload index per filterable field), which would make the suite ten times slower. The durability
    tests of the embedded engine (test_qdrant_edge.py) run on the real disk.
    """
    shm = Path("/dev/shm")
    if not (shm.is_dir() and os.access(shm, os.W_OK)):
        yield tmp_path
        return
    path = Path(tempfile.mkdtemp(prefix="lookalike-store-", dir=shm))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(params=list(BACKENDS))
def backend(request: pytest.FixtureRequest, data_dir: Path) -> Iterator[Backend]:
    backend = BACKENDS[request.param](request, data_dir)
    yield backend
    backend.close_all()


@pytest.fixture
def store(backend: Backend) -> Store:
    return backend.open()


@pytest.fixture
def collection(store: Store) -> str:
    """A fresh, empty collection of DIM-dimensional vectors."""
    name = f"t{uuid.uuid4().hex[:12]}"
    store.ensure_collection(name, DIM)
    return name


@pytest.fixture
def reopen(backend: Backend) -> Callable[[Store], Store]:
    """Close a store and open the same backend on the same data again."""

    def reopen(store: Store) -> Store:
        store.close()
        return backend.open()

    return reopen


# -- data ----------------------------------------------------------------------------------------------------

INTS = (-3, -1, 0, 1, 2, 3)
STRS = ("", "a", "b", "中文", "é", "a b")
# Out of the stored range, to check that bounds far away (and beyond a float's exact integers) still work.
FAR_INTS = (-(2**63), -(2**53) - 1, 2**53 + 1, 2**63 - 1)


def unit(rng: np.random.Generator, n: int, dim: int = DIM) -> np.ndarray:
    v = rng.standard_normal((n, dim)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def make_records(n: int, seed: int = 0, dim: int = DIM) -> list[Image]:
    """`n` records with random unit vectors and attributes drawn from small sets, so filters hit often."""
    rng = np.random.default_rng(seed)
    vectors = unit(rng, n, dim)
    pick = random.Random(seed)
    return [
        Image(
            product_id=f"p{i // 4}" if i % 5 else f"商品{i // 4}",
            pic_name=f"{i % 4}.jpg",
            category_id=pick.randrange(5),
            region=Box(0, pick.randrange(100), 0, pick.randrange(100)),
            attributes=Attributes(
                custom_content=f"content {i}",
                **{name: pick.choice(INTS) for name in INT_FIELDS},
                **{name: pick.choice(STRS) for name in STR_FIELDS},
            ),
            vector=vectors[i],
        )
        for i in range(n)
    ]


def random_filter(pick: random.Random, records: list[Image], depth: int = 3) -> Filter:
    """A random filter tree over every field and every kind of node."""
    if depth > 0 and pick.random() < 0.45:
        kind = pick.choice((And, Or, Not))
        if kind is Not:
            return Not(random_filter(pick, records, depth - 1))
        return kind(tuple(random_filter(pick, records, depth - 1) for _ in range(pick.randrange(4))))
    name = pick.choice(list(FILTER_FIELDS))
    values = _values(pick, name, records)
    if pick.random() < 0.3:
        return In(name, tuple(pick.sample(values, pick.randrange(4))), negated=pick.random() < 0.5)
    ops = ("=", "!=", ">", ">=", "<", "<=") if FILTER_FIELDS[name] is int else ("=", "!=")
    return Compare(name, pick.choice(ops), pick.choice(values))


def _values(pick: random.Random, name: str, records: list[Image]) -> list[int | str]:
    if name in INT_FIELDS:
        return [*INTS, -2, 4, *(FAR_INTS if pick.random() < 0.1 else ())]
    if name in STR_FIELDS:
        return [*STRS, "missing"]
    if name == "category_id":
        return [0, 1, 2, 3, 4, 9]
    seen = sorted({r.value(name) for r in pick.sample(records, 5)})
    return [*seen, "missing"]
