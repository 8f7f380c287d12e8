"""The store protocol: what the service needs from a vector engine, and nothing more.

One collection per instance; an image (`domain.image.Image`) is keyed by (product_id, pic_name). Vectors are
L2-normalised and a hit's `score` is their cosine similarity. Filters arrive as the engine-neutral tree of
`domain.filters`, which each engine compiles to its own form: request text never reaches an engine.

Promises every engine keeps:
- a write that has returned is durable and visible to the next read or search (read-your-writes);
- methods may be called from several threads at once.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from lookalike.domain.filters import Filter
from lookalike.domain.image import Hit, Image, ImageKey

COLLECTION_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,127}")


def check_collection_name(name: str) -> None:
    if not COLLECTION_NAME.fullmatch(name):
        raise ValueError(
            f"invalid collection name {name!r}: 1-128 letters, digits, '_' or '-', "
            "starting with a letter or digit"
        )


@dataclass(frozen=True)
class Capabilities:
    max_window: int  # the largest offset + limit one search may ask for
    shared: bool  # several processes, on several machines, may use it at once

    def check_window(self, offset: int, limit: int) -> None:
        if offset < 0 or limit < 0:
            raise ValueError(f"offset and limit must not be negative (offset={offset}, limit={limit})")
        if offset + limit > self.max_window:
            raise ValueError(f"offset + limit is {offset + limit}, over {self.max_window}")


def vector_values(vector: np.ndarray | None, dim: int) -> list[float]:
    """A record's or a query's vector as plain floats, once checked: `dim` finite values, not all zero."""
    if vector is None:
        raise ValueError("a record needs its vector")
    v = np.asarray(vector, dtype=np.float32)
    if v.shape != (dim,):
        raise ValueError(f"expected a vector of shape ({dim},), got {v.shape}")
    if not np.all(np.isfinite(v)) or not np.any(v):
        raise ValueError("a vector must be finite and not all zeros")
    values: list[float] = v.tolist()
    return values


class Store(Protocol):
    capabilities: Capabilities

    def ensure_collection(self, name: str, dim: int) -> None: ...

    def drop_collection(self, name: str) -> None: ...

    def upsert(self, collection: str, records: Sequence[Image]) -> None:
        """Insert or overwrite by key; every record carries its vector."""
        ...

    def get(self, collection: str, keys: Sequence[ImageKey], *, with_vectors: bool = False) -> list[Image]:
        """The records that exist among `keys`, in the order given."""
        ...

    def delete(self, collection: str, keys: Sequence[ImageKey]) -> list[ImageKey]:
        """Delete by key; returns the keys that existed."""
        ...

    def delete_by_filter(self, collection: str, filter: Filter) -> list[ImageKey]:
        """Delete every record the filter matches; returns their keys."""
        ...

    def count(self, collection: str, filter: Filter | None = None) -> int: ...

    def search(
        self,
        collection: str,
        vector: np.ndarray,
        *,
        limit: int,
        offset: int = 0,
        filter: Filter | None = None,
    ) -> list[Hit]:
        """The nearest records by cosine similarity, best first, skipping the first `offset`."""
        ...

    def scroll(
        self,
        collection: str,
        *,
        filter: Filter | None = None,
        limit: int = 256,
        cursor: str | None = None,
        with_vectors: bool = False,
    ) -> tuple[list[Image], str | None]:
        """One page of records in a stable order, and the cursor of the next page (None at the end)."""
        ...

    def flush(self) -> None: ...

    def ping(self) -> None:
        """Return if the engine answers now; raise (any error) if it does not."""
        ...

    def close(self) -> None: ...
