"""The distributed engine: Milvus 2.3 or later, through pymilvus. Several Lookalike processes may share it.

- One collection per store collection, named `lookalike_` + the name with `_` written `__` and `-` written
  `_d` (Milvus names allow no `-` and no leading digit; the mapping is reversible, so names never collide).
- The primary key is the JSON text of [product_id, pic_name]: unique by construction, so an upsert overwrites
  the image of the same key and no hash can collide. Every other field is a column of its own, with a scalar
  index (STL_SORT on integers, Trie on strings) for filtered search. The category is not a partition key:
  Milvus 2.3.5 files upserted rows under the wrong partition, and a filter on the category then misses them.
- Vectors have an HNSW index with cosine similarity; a search uses ef = max(EF_SEARCH, offset + limit),
  the same for every page the service asks for (offset + limit <= 500), so pages are slices of one ranking.
  The newest rows, in segments still growing, are searched exhaustively, or through a coarse interim index
  where Milvus builds one (its default; the README has the recall of each).
- Every read is Strong: it waits until the query nodes have applied every write acknowledged before it
  began, by any client. Milvus's default, Bounded, lets a search miss the writes of the last seconds; Session
  covers only the writes of this process. Strong costs one or two time ticks (`proxy.timeTickInterval`,
  200 ms by default) per read; the README has measured figures.
- A write returns once Milvus has logged it in its message queue, so it survives a crash of Lookalike or of
  a Milvus node; whether it survives a power cut is up to the queue (Pulsar or Kafka, or RocksMQ standalone).
- Lookalike keeps no state about the data. `delete` and `delete_by_filter` find the keys, then delete them,
  under a lock of this process: another process may write in between, and the keys reported are those
  this call found and deleted.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
from pymilvus import DataType, MilvusClient, MilvusException

from lookalike.domain.filters import FILTER_FIELDS, Filter
from lookalike.domain.image import SCALAR_FIELDS, Hit, Image, ImageKey
from lookalike.store.base import Capabilities, check_collection_name, vector_values
from lookalike.store.milvus.address import MilvusAddress
from lookalike.store.milvus.filters import compile_filter, literal, literal_list

EF_SEARCH = 512  # HNSW candidate list of a search: at least every window the service asks for (<= 500)
_HNSW = {"M": 16, "efConstruction": 200}
MAX_WINDOW = 16_384  # Milvus refuses a search or query whose offset + limit is larger
_BATCH = 512  # rows per upsert, keys per `key in [...]` expression
_PREFIX = "lookalike_"
_MAX_VARCHAR = 65_535  # bytes; the longest VARCHAR Milvus stores (no field of Lookalike comes near it)
_COLLECTION_NOT_FOUND = 100  # Milvus's error code
_STRONG = "Strong"
_FIELDS = [*SCALAR_FIELDS, "region"]  # every column but key and vector
Row = dict[str, Any]  # a row of a query's answer, by field name


class MilvusStore:
    """The `Store` protocol on a Milvus server or cluster."""

    capabilities = Capabilities(max_window=MAX_WINDOW, shared=True)

    def __init__(self, address: MilvusAddress, timeout: float = 60):
        self.address = address
        try:
            # A connection of its own: pymilvus otherwise shares one per address and user, whatever the TLS.
            self._client = MilvusClient(**address.client_options(), timeout=timeout, dedicated=True)
            self._client.list_collections()  # the database exists and the user may use it
        except MilvusException as error:
            raise ConnectionError(
                f"cannot use Milvus at {address.host}:{address.port}: {error.message}"
            ) from None
        self._lock = threading.Lock()
        self._dims: dict[str, int] = {}  # collections known to exist and be loaded: their dimension
        self._delete_locks: dict[str, threading.Lock] = {}
        self._closed = False

    # -- collections ---------------------------------------------------------------------------------------

    def ensure_collection(self, name: str, dim: int) -> None:
        if dim < 1:
            raise ValueError(f"a vector needs at least one dimension, not {dim}")
        with self._lock:  # asked again: another process may have dropped it since (a deleted instance)
            self._dims.pop(name, None)
        actual = self._dim(name) or self._create(name, dim)
        if actual != dim:
            raise ValueError(f"collection {name!r} holds {actual}-dimensional vectors, not {dim}")

    def drop_collection(self, name: str) -> None:
        self._check_open()
        with self._lock:
            self._dims.pop(name, None)
        self._client.drop_collection(milvus_name(name))  # nothing to do if there is none

    def _dim(self, name: str) -> int | None:
        """The dimension of an existing collection, which is then loaded; None if there is none."""
        self._check_open()
        if name in self._dims:
            return self._dims[name]
        collection = milvus_name(name)
        if not self._client.has_collection(collection):
            return None
        schema = self._client.describe_collection(collection)
        (dim,) = [f["params"]["dim"] for f in schema["fields"] if f["name"] == "vector"]
        self._client.load_collection(collection)  # quick when it is loaded already
        with self._lock:
            self._dims[name] = int(dim)
        return int(dim)

    def _create(self, name: str, dim: int) -> int:
        collection = milvus_name(name)
        schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field("key", DataType.VARCHAR, is_primary=True, max_length=_MAX_VARCHAR)
        schema.add_field("vector", DataType.FLOAT_VECTOR, dim=dim)
        for field, kind in SCALAR_FIELDS.items():
            if kind is int:
                schema.add_field(field, DataType.INT64)
            else:
                schema.add_field(field, DataType.VARCHAR, max_length=_MAX_VARCHAR)
        schema.add_field("region", DataType.ARRAY, element_type=DataType.INT64, max_capacity=4)
        indexes = self._client.prepare_index_params()
        indexes.add_index("vector", index_type="HNSW", metric_type="COSINE", params=_HNSW)
        for field, kind in FILTER_FIELDS.items():
            indexes.add_index(field, index_type="STL_SORT" if kind is int else "Trie")
        try:
            self._client.create_collection(collection, schema=schema, consistency_level=_STRONG)
        except MilvusException:
            # Another process may have created (and indexes) it at the same moment; if not, the error stands.
            if not self._client.has_collection(collection):
                raise
        else:
            # Not waited for: an empty collection's index is ready at once, and pymilvus polls slowly.
            self._client.create_index(collection, indexes, sync=False)
        dim_now = self._dim(name)
        assert dim_now is not None
        return dim_now

    def _collection(self, name: str) -> str:
        """The Milvus name of an existing collection; KeyError if there is none."""
        if self._dim(name) is None:
            raise KeyError(f"no collection {name!r}; ensure_collection creates it")
        return milvus_name(name)

    # -- writes --------------------------------------------------------------------------------------------

    def upsert(self, collection: str, records: Sequence[Image]) -> None:
        target = self._collection(collection)
        dim = self._dims[collection]
        rows = [_row(record, dim) for record in records]
        for start in range(0, len(rows), _BATCH):
            self._call(collection, self._client.upsert, target, rows[start : start + _BATCH])

    def delete(self, collection: str, keys: Sequence[ImageKey]) -> list[ImageKey]:
        target = self._collection(collection)
        wanted = {_key_text(key): key for key in keys}
        with self._delete_lock(collection):
            found = {row["key"] for row in self._rows(collection, _keys_in(list(wanted)), ["key"])}
            self._delete_keys(collection, target, list(found))
        return [key for text, key in wanted.items() if text in found]

    def delete_by_filter(self, collection: str, filter: Filter) -> list[ImageKey]:
        target = self._collection(collection)
        expression = compile_filter(filter)
        with self._delete_lock(collection):
            rows = list(self._scan(collection, expression, ["key", "product_id", "pic_name"]))
            self._delete_keys(collection, target, [row["key"] for row in rows])
        return [ImageKey(row["product_id"], row["pic_name"]) for row in rows]

    def _delete_keys(self, collection: str, target: str, keys: list[str]) -> None:
        for start in range(0, len(keys), _BATCH):
            chunk = keys[start : start + _BATCH]
            self._call(collection, self._client.delete, target, filter=f"key in {literal_list(chunk)}")

    def _delete_lock(self, collection: str) -> threading.Lock:
        with self._lock:
            return self._delete_locks.setdefault(collection, threading.Lock())

    # -- reads ---------------------------------------------------------------------------------------------

    def get(self, collection: str, keys: Sequence[ImageKey], *, with_vectors: bool = False) -> list[Image]:
        self._collection(collection)
        wanted = {_key_text(key): key for key in keys}
        output = ["key", *_FIELDS, *(["vector"] if with_vectors else [])]
        found = {row["key"]: _record(row) for row in self._rows(collection, _keys_in(list(wanted)), output)}
        return [found[text] for text in wanted if text in found]

    def count(self, collection: str, filter: Filter | None = None) -> int:
        target = self._collection(collection)
        expression = "" if filter is None else compile_filter(filter)
        (row,) = self._call(
            collection,
            self._client.query,
            target,
            filter=expression,
            output_fields=["count(*)"],
            consistency_level=_STRONG,
        )
        return int(row["count(*)"])

    def search(
        self,
        collection: str,
        vector: np.ndarray,
        *,
        limit: int,
        offset: int = 0,
        filter: Filter | None = None,
    ) -> list[Hit]:
        target = self._collection(collection)
        self.capabilities.check_window(offset, limit)
        query = vector_values(vector, self._dims[collection])
        if limit == 0:
            return []
        (hits,) = self._call(
            collection,
            self._client.search,
            target,
            data=[query],
            anns_field="vector",
            limit=limit,
            offset=offset,
            filter="" if filter is None else compile_filter(filter),
            output_fields=_FIELDS,
            search_params={"metric_type": "COSINE", "params": {"ef": max(EF_SEARCH, offset + limit)}},
            consistency_level=_STRONG,
        )
        return [Hit(_record(hit["entity"]), float(hit["distance"])) for hit in hits]

    def scroll(
        self,
        collection: str,
        *,
        filter: Filter | None = None,
        limit: int = 256,
        cursor: str | None = None,
        with_vectors: bool = False,
    ) -> tuple[list[Image], str | None]:
        """Pages in key order; the cursor is the key of the last record returned."""
        target = self._collection(collection)
        if not 1 <= limit < MAX_WINDOW:
            raise ValueError(f"limit must be 1 to {MAX_WINDOW - 1}, not {limit}")
        conditions = [] if filter is None else [compile_filter(filter)]
        if cursor is not None:
            conditions.append(f"key > {literal(cursor)}")
        output = ["key", *_FIELDS, *(["vector"] if with_vectors else [])]
        rows = self._query_page(collection, target, conditions, output, limit + 1)
        following = rows[limit - 1]["key"] if len(rows) > limit else None
        return [_record(row) for row in rows[:limit]], following

    def _rows(self, collection: str, expressions: Iterator[str], output: list[str]) -> Iterator[Row]:
        target = milvus_name(collection)
        for expression in expressions:
            yield from self._call(
                collection,
                self._client.query,
                target,
                filter=expression,
                output_fields=output,
                consistency_level=_STRONG,
            )

    def _scan(self, collection: str, expression: str, output: list[str]) -> Iterator[Row]:
        """Every row matching the expression, in pages ordered by key."""
        target = milvus_name(collection)
        last: str | None = None
        while True:
            conditions = [expression] + ([] if last is None else [f"key > {literal(last)}"])
            rows = self._query_page(collection, target, conditions, output, 4 * _BATCH)
            yield from rows
            if len(rows) < 4 * _BATCH:
                return
            last = rows[-1]["key"]

    def _query_page(
        self, collection: str, target: str, conditions: list[str], output: list[str], limit: int
    ) -> list[Row]:
        # Milvus answers a query with a limit in primary key order: the key is a cursor.
        expression = " and ".join(f"({c})" for c in conditions)
        rows: list[Row] = self._call(
            collection,
            self._client.query,
            target,
            filter=expression,
            output_fields=output,
            limit=limit,
            consistency_level=_STRONG,
        )
        return rows

    # -- lifecycle -----------------------------------------------------------------------------------------

    def flush(self) -> None:
        """Nothing to do: an acknowledged write is already in Milvus's log (its own flush seals segments)."""
        self._check_open()

    def ping(self) -> None:
        self._check_open()
        self._client.list_collections(timeout=5)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._client.close()

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("the store is closed")

    def _call(self, collection: str, method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Call pymilvus; a collection dropped meanwhile (by any process) is a KeyError, as everywhere."""
        self._check_open()
        try:
            return method(*args, **kwargs)
        except MilvusException as error:
            if error.code == _COLLECTION_NOT_FOUND:
                with self._lock:
                    self._dims.pop(collection, None)
                raise KeyError(f"no collection {collection!r}: {error.message}") from None
            raise


# -- names and keys ------------------------------------------------------------------------------------------


def milvus_name(name: str) -> str:
    """The Milvus collection of a store collection: reversible, and valid whatever the name's characters."""
    check_collection_name(name)
    return _PREFIX + name.replace("_", "__").replace("-", "_d")


def _key_text(key: ImageKey) -> str:
    return json.dumps([key.product_id, key.pic_name], ensure_ascii=False)


def _keys_in(keys: Sequence[str]) -> Iterator[str]:
    for start in range(0, len(keys), _BATCH):
        yield f"key in {literal_list(keys[start : start + _BATCH])}"


def _row(record: Image, dim: int) -> dict[str, object]:
    return {"key": _key_text(record.key), "vector": vector_values(record.vector, dim), **record.payload()}


def _record(row: Row) -> Image:
    vector = row.get("vector")
    return Image.from_payload(row, None if vector is None else np.asarray(vector, dtype=np.float32))
