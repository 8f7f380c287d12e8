"""The store protocol: what the service needs from a vector engine, and nothing more.

One collection per instance; an image is keyed by (product_id, pic_name). Vectors are L2-normalised and a
hit's `score` is their cosine similarity. Filters arrive as the engine-neutral tree below, which each engine
compiles to its own form: request text never reaches an engine.

Promises every engine keeps:
- a write that has returned is durable and visible to the next read or search (read-your-writes);
- methods may be called from several threads at once.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from typing import Literal, Protocol

import numpy as np

INT_FIELDS = ("int_attr", "int_attr2", "int_attr3", "int_attr4")
STR_FIELDS = ("str_attr", "str_attr2", "str_attr3", "str_attr4")
# Every field a filter tree may name, with its type. The user's filter language reaches only the
# attribute fields; the service itself filters on the others (by product, by category).
FILTER_FIELDS: dict[str, type] = {
    **dict.fromkeys(INT_FIELDS, int),
    **dict.fromkeys(STR_FIELDS, str),
    "category_id": int,
    "product_id": str,
    "pic_name": str,
}

CompareOp = Literal["=", "!=", ">", ">=", "<", "<="]
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
COLLECTION_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,127}")


def check_collection_name(name: str) -> None:
    if not COLLECTION_NAME.fullmatch(name):
        raise ValueError(
            f"invalid collection name {name!r}: 1-128 letters, digits, '_' or '-', "
            "starting with a letter or digit"
        )


def check_value(name: str, value: object) -> type:
    """The type of filter field `name`, once `value` is known to be a valid value for it (else ValueError)."""
    kind = FILTER_FIELDS.get(name)
    if kind is None:
        raise ValueError(f"unknown filter field {name!r}")
    if type(value) is not kind:  # exact: a bool is not an int here
        raise ValueError(f"{name} takes {kind.__name__} values, not {value!r}")
    if kind is int and not INT64_MIN <= value <= INT64_MAX:  # type: ignore[operator]
        raise ValueError(f"{name} value {value} is out of the signed 64-bit range")
    return kind


@dataclass(frozen=True)
class Compare:
    """`field op value`. The ordering operators apply to int fields only: engines refuse them on str fields
    with ValueError (Qdrant has no range over keywords, and the filter language never asks for one)."""

    field: str
    op: CompareOp
    value: int | str


@dataclass(frozen=True)
class In:
    field: str
    values: tuple[int | str, ...]
    negated: bool = False


@dataclass(frozen=True)
class And:
    items: tuple[Filter, ...]


@dataclass(frozen=True)
class Or:
    items: tuple[Filter, ...]


@dataclass(frozen=True)
class Not:
    item: Filter


Filter = Compare | In | And | Or | Not


def all_of(*filters: Filter | None) -> Filter | None:
    """The conjunction of the given filters, ignoring None; None when nothing is left."""
    items = tuple(f for f in filters if f is not None)
    if not items:
        return None
    return items[0] if len(items) == 1 else And(items)


def matches(filter: Filter, record: ImageRecord) -> bool:
    """Evaluate a filter tree on one record: the reference semantics every engine must agree with."""
    match filter:
        case Compare(field=name, op=op, value=value):
            actual = getattr(record, name)
            return {
                "=": actual == value,
                "!=": actual != value,
                ">": actual > value,
                ">=": actual >= value,
                "<": actual < value,
                "<=": actual <= value,
            }[op]
        case In(field=name, values=values, negated=negated):
            return (getattr(record, name) in values) != negated
        case And(items=items):
            return all(matches(item, record) for item in items)
        case Or(items=items):
            return any(matches(item, record) for item in items)
        case Not(item=item):
            return not matches(item, record)
    raise TypeError(f"not a filter: {filter!r}")


@dataclass(frozen=True)
class ImageKey:
    product_id: str
    pic_name: str


@dataclass
class ImageRecord:
    """One stored image: its vector and everything the API returns about it."""

    product_id: str
    pic_name: str
    category_id: int
    region: tuple[int, int, int, int]  # x1, x2, y1, y2 of the part of the picture the vector describes
    custom_content: str = ""
    int_attr: int = 0
    int_attr2: int = 0
    int_attr3: int = 0
    int_attr4: int = 0
    str_attr: str = ""
    str_attr2: str = ""
    str_attr3: str = ""
    str_attr4: str = ""
    vector: np.ndarray | None = field(default=None, repr=False, compare=False)

    @property
    def key(self) -> ImageKey:
        return ImageKey(self.product_id, self.pic_name)

    def payload(self) -> dict[str, object]:
        """Every field but the vector, as plain values (region as a list)."""
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "vector"}
        out["region"] = list(self.region)
        return out

    @classmethod
    def from_payload(cls, payload: dict, vector: np.ndarray | None = None) -> ImageRecord:
        known = {f.name for f in fields(cls)} - {"vector"}
        values = {k: v for k, v in payload.items() if k in known}
        values["region"] = tuple(int(v) for v in values.get("region", (0, 0, 0, 0)))
        return cls(**values, vector=vector)


@dataclass(frozen=True)
class Hit:
    record: ImageRecord
    score: float  # cosine similarity of the query and the stored vector


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
    return v.tolist()


class Store(Protocol):
    capabilities: Capabilities

    def ensure_collection(self, name: str, dim: int) -> None: ...

    def drop_collection(self, name: str) -> None: ...

    def upsert(self, collection: str, records: Sequence[ImageRecord]) -> None:
        """Insert or overwrite by key; every record carries its vector."""
        ...

    def get(
        self, collection: str, keys: Sequence[ImageKey], *, with_vectors: bool = False
    ) -> list[ImageRecord]:
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
    ) -> tuple[list[ImageRecord], str | None]:
        """One page of records in a stable order, and the cursor of the next page (None at the end)."""
        ...

    def flush(self) -> None: ...

    def ping(self) -> None:
        """Return if the engine answers now; raise (any error) if it does not."""
        ...

    def close(self) -> None: ...
