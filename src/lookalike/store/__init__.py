"""Vector stores behind one protocol (`base.Store`); `open_store` picks the engine from a URI."""

from __future__ import annotations

from pathlib import Path

from lookalike.store.base import Store


def open_store(uri: str | None, data_dir: Path) -> Store:
    """The store a URI names: none, "" or "qdrant-edge" is the embedded engine, its files under `data_dir`."""
    if uri in (None, "", "qdrant-edge"):
        from lookalike.store.qdrant_edge import (
            QdrantEdgeStore,
        )  # imported here: the engine loads a native library

        return QdrantEdgeStore(data_dir)
    raise ValueError(
        f"unknown store URI {uri!r}; supported: 'qdrant-edge' (the embedded engine, the default)"
    )
