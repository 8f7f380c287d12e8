"""The engine-neutral filter tree that restricts searches and deletes.

The service parses the `Filter` language into it (`service.filters`), and filters by product and category
itself; each store compiles it to its own form (a Qdrant filter, a Milvus expression): request text never
reaches an engine. `matches` is the reference meaning every engine agrees with.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from lookalike.domain.image import FILTERABLE_ATTRIBUTES, Image

# Every field a filter tree may name, with its type. The user's filter language reaches only the
# attributes; the service itself filters on the others (by product, by category).
FILTER_FIELDS: dict[str, type] = {
    **FILTERABLE_ATTRIBUTES,
    "category_id": int,
    "product_id": str,
    "pic_name": str,
}
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
CompareOp = Literal["=", "!=", ">", ">=", "<", "<="]
_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "!=": operator.ne,
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
}


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


def check_value(name: str, value: object) -> type:
    """The type of filter field `name`, once `value` is known to be a valid value for it (else ValueError)."""
    kind = FILTER_FIELDS.get(name)
    if kind is None:
        raise ValueError(f"unknown filter field {name!r}")
    if type(value) is not kind:  # exact: a bool is not an int here
        raise ValueError(f"{name} takes {kind.__name__} values, not {value!r}")
    if isinstance(value, int) and not INT64_MIN <= value <= INT64_MAX:
        raise ValueError(f"{name} value {value} is out of the signed 64-bit range")
    return kind


def all_of(*filters: Filter | None) -> Filter | None:
    """The conjunction of the given filters, ignoring None; None when nothing is left."""
    items = tuple(f for f in filters if f is not None)
    if not items:
        return None
    return items[0] if len(items) == 1 else And(items)


def matches(filter: Filter, image: Image) -> bool:
    """Whether the filter accepts the image: the reference meaning every engine must agree with."""
    match filter:
        case Compare(field=name, op=op, value=value):
            return _COMPARE[op](image.value(name), value)
        case In(field=name, values=values, negated=negated):
            return (image.value(name) in values) != negated
        case And(items=items):
            return all(matches(item, image) for item in items)
        case Or(items=items):
            return any(matches(item, image) for item in items)
        case Not(item=item):
            return not matches(item, image)
    raise TypeError(f"not a filter: {filter!r}")
