"""The distributed engine, Milvus, in rooms: `store` (the `Store` protocol on a Milvus server or cluster),
`address` (the `milvus://` URI), `filters` (the filter tree compiled to Milvus's expressions)."""

from lookalike.store.milvus.address import MilvusAddress
from lookalike.store.milvus.filters import compile_filter
from lookalike.store.milvus.store import EF_SEARCH, MilvusStore, milvus_name

__all__ = ["EF_SEARCH", "MilvusAddress", "MilvusStore", "compile_filter", "milvus_name"]
