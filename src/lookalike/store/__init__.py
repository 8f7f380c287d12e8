"""Vector stores behind one protocol (`base.Store`); `open_store` picks the engine from a URI."""

from __future__ import annotations

from pathlib import Path

from lookalike.store.base import Store


def open_store(uri: str | None, data_dir: Path) -> Store:
    """The store a URI names: none, "" or "qdrant-edge" is the embedded engine, its files under `data_dir`;
    `milvus://...` is a Milvus server or cluster (see `milvus.MilvusAddress` for the form)."""
    # Engines are imported here: each loads a native library or a client the other does not need.
    if uri in (None, "", "qdrant-edge"):
        from lookalike.store.qdrant_edge import QdrantEdgeStore

        return QdrantEdgeStore(data_dir)
    if uri.startswith("milvus://"):
        try:
            from lookalike.store.milvus import MilvusAddress, MilvusStore
        except ImportError:
            raise ValueError("the Milvus engine needs pymilvus: pip install 'lookalike[milvus]'") from None
        return MilvusStore(MilvusAddress.parse(uri))
    raise ValueError(
        f"unknown store URI {uri!r}; supported: 'qdrant-edge' (the embedded engine, the default) "
        "and milvus://[user[:password]@]host[:port][/database][?tls=true&ca=...]"
    )
