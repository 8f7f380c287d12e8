"""One model of an image, declared once: its key, the region of the picture it describes, its category, the
attributes its owner stores beside it, and its vector. Everything else (the store's payload and columns, the
filterable fields, the wire's parameter and field names) is derived from these declarations.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, NamedTuple

import numpy as np

# The limits of the stored values, as the cloud documents them.
MAX_ID_LENGTH = 256  # ProductId, PicName
MAX_CUSTOM_CONTENT = 4096
MAX_STR_ATTR = 128
STR_ATTR_FORBIDDEN = frozenset("\\¥$&%")
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1


class Box(NamedTuple):
    """Pixels of the original picture; x2 and y2 are exclusive. Field order follows the service's Region."""

    x1: int
    x2: int
    y1: int
    y2: int

    @property
    def width(self) -> int:
        return self.x2 - self.x1

    @property
    def height(self) -> int:
        return self.y2 - self.y1

    def iou(self, other: Box) -> float:
        """Intersection over union: 1.0 for the same box, 0.0 for boxes apart."""
        common = self.intersection(other)
        inter = 0 if common is None else common.width * common.height
        return inter / (self.width * self.height + other.width * other.height - inter)

    def intersection(self, other: Box) -> Box | None:
        """The part of the picture both boxes cover, or None if they do not overlap."""
        x1, x2 = max(self.x1, other.x1), min(self.x2, other.x2)
        y1, y2 = max(self.y1, other.y1), min(self.y2, other.y2)
        return Box(x1, x2, y1, y2) if x2 > x1 and y2 > y1 else None

    def toward(self, other: Box, share: float) -> Box:
        """This box with each side moved `share` of the way to `other`'s, to the nearest pixel."""
        return Box(*(round(mine + share * (theirs - mine)) for mine, theirs in zip(self, other, strict=True)))

    def clip(self, width: int, height: int) -> Box | None:
        """This box inside a width x height image, or None if nothing of it is left."""
        return self.intersection(Box(0, width, 0, height))


def _filterable(default: int | str) -> Any:
    """An attribute searches and deletes may be restricted by (the filter language reaches these)."""
    return field(default=default, metadata={"filterable": True})


@dataclass(frozen=True)
class Attributes:
    """What an image's owner stores beside it and gets back with it."""

    custom_content: str = ""
    int_attr: int = _filterable(0)
    int_attr2: int = _filterable(0)
    int_attr3: int = _filterable(0)
    int_attr4: int = _filterable(0)
    str_attr: str = _filterable("")
    str_attr2: str = _filterable("")
    str_attr3: str = _filterable("")
    str_attr4: str = _filterable("")


# Each attribute's name and type, in their declared order.
ATTRIBUTES: dict[str, type] = {f.name: {"int": int, "str": str}[str(f.type)] for f in fields(Attributes)}
FILTERABLE_ATTRIBUTES: dict[str, type] = {
    f.name: ATTRIBUTES[f.name] for f in fields(Attributes) if f.metadata.get("filterable")
}


# The scalar fields of a stored image, with their types: its key, its category and its attributes (the
# region, four integers, and the vector aside).
SCALAR_FIELDS: dict[str, type] = {"product_id": str, "pic_name": str, "category_id": int, **ATTRIBUTES}


def attribute_problem(name: str, value: int | str) -> str | None:
    """Why `value` cannot be stored as the attribute `name`; None if it can."""
    if isinstance(value, int):
        return None if INT32_MIN <= value <= INT32_MAX else f"{value} is outside {INT32_MIN}..{INT32_MAX}"
    longest = MAX_CUSTOM_CONTENT if name == "custom_content" else MAX_STR_ATTR
    if len(value) > longest:
        return f"longer than {longest} characters"
    if name != "custom_content" and (bad := sorted(STR_ATTR_FORBIDDEN.intersection(value))):
        return f"it may not contain {' '.join(bad)}"
    return None


@dataclass(frozen=True)
class ImageKey:
    product_id: str
    pic_name: str


@dataclass
class Image:
    """One stored image."""

    product_id: str
    pic_name: str
    category_id: int
    region: Box  # the part of the picture the vector describes
    attributes: Attributes = Attributes()
    vector: np.ndarray | None = field(default=None, repr=False, compare=False)  # L2-normalised

    @property
    def key(self) -> ImageKey:
        return ImageKey(self.product_id, self.pic_name)

    def value(self, name: str) -> Any:
        """The value of one of the SCALAR_FIELDS."""
        if name not in SCALAR_FIELDS:
            raise KeyError(f"an image has no scalar field {name!r}")
        return getattr(self.attributes if name in ATTRIBUTES else self, name)

    def payload(self) -> dict[str, Any]:
        """The stored form: every scalar field by its name, and the region as a list (no vector)."""
        return {**{name: self.value(name) for name in SCALAR_FIELDS}, "region": list(self.region)}

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any], vector: np.ndarray | None = None) -> Image:
        return cls(
            product_id=payload["product_id"],
            pic_name=payload["pic_name"],
            category_id=payload["category_id"],
            region=Box(*(int(v) for v in payload.get("region", (0, 0, 0, 0)))),
            attributes=Attributes(**{name: payload[name] for name in ATTRIBUTES if name in payload}),
            vector=vector,
        )


@dataclass(frozen=True)
class Hit:
    image: Image
    score: float  # cosine similarity of the query and the stored vector; the service maps it to [0, 1]
