"""The cloud's text form of an image, below the service: the names of its fields (PascalCase, as the SDKs'
models and parameters spell them), its values read from text, and the files of bulk jobs: a line of
increment.meta in, a line of a metadata export out.

The wire (api/) reads a request's parameters with the same functions, so an image is checked by the same
rules whichever way it comes, and refused with the same domain errors.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from lookalike.domain.errors import BadMetaLine, BadValue, MissingValue
from lookalike.domain.image import (
    ATTRIBUTES,
    MAX_ID_LENGTH,
    SCALAR_FIELDS,
    Attributes,
    Box,
    Image,
    attribute_problem,
)


def wire_name(field: str) -> str:
    """`int_attr2` -> `IntAttr2`, `custom_content` -> `CustomContent`, `product_id` -> `ProductId`."""
    return "".join(part.capitalize() for part in field.split("_"))


# Every scalar field of a stored image by its wire name, in the order answers list them.
IMAGE_FIELDS = {wire_name(name): name for name in SCALAR_FIELDS}

# -- an image's values, from their text under their wire names ----------------------------------------------

Values = Mapping[str, str]


def key_part(values: Values, name: str) -> str:
    """ProductId or PicName (`name` is product_id or pic_name): given, and not too long."""
    param = wire_name(name)
    value = values.get(param, "")
    if not value:
        raise MissingValue(name, f"The parameter {param} is not specified")
    if len(value) > MAX_ID_LENGTH:
        raise BadValue(
            name, f"The specified parameter {param} is not valid: longer than {MAX_ID_LENGTH} characters"
        )
    return value


def category_id(values: Values) -> int | None:
    raw = values.get("CategoryId", "").strip()
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        raise BadValue("category_id", f"The specified parameter CategoryId is not valid: {raw!r}") from None


def region(values: Values) -> Box | None:
    """`x1,x2,y1,y2`, in the picture's pixels."""
    raw = values.get("Region", "").strip()
    if not raw:
        return None
    try:
        x1, x2, y1, y2 = (int(part.strip()) for part in raw.split(","))
    except ValueError:
        raise BadValue(
            "region", f"The specific region is illegal: {raw!r} is not four integers x1,x2,y1,y2"
        ) from None
    if not (0 <= x1 < x2 and 0 <= y1 < y2):
        raise BadValue(
            "region", f"The specific region is illegal: {raw!r} needs 0 <= x1 < x2 and 0 <= y1 < y2"
        )
    return Box(x1, x2, y1, y2)


def region_text(box: Box) -> str:
    return f"{box.x1},{box.x2},{box.y1},{box.y2}"


def attribute(values: Values, name: str) -> int | str:
    """The attribute `name` (an `Attributes` field), checked; 0 or "" when it is absent."""
    param = wire_name(name)
    raw = values.get(param, "")
    value: int | str = raw
    if ATTRIBUTES[name] is int:
        try:
            value = int(raw.strip()) if raw else 0
        except ValueError:
            raise BadValue(
                name, f"The specified parameter {param} is not valid: {raw!r} is not an integer"
            ) from None
    if problem := attribute_problem(name, value):
        raise BadValue(name, f"The specified parameter {param} is not valid: {problem}")
    return value


def attributes(values: Values) -> Attributes:
    checked: dict[str, Any] = {name: attribute(values, name) for name in ATTRIBUTES}
    return Attributes(**checked)


# -- the files of bulk jobs ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class MetaLine:
    """One line of increment.meta, checked."""

    operation: Literal["ADD", "DELETE"]
    product_id: str
    pic_name: str | None  # None: DELETE every image of the product
    category_id: int | None = None
    region: Box | None = None
    attributes: Attributes = field(default_factory=Attributes)


def parse_meta_line(text: str) -> MetaLine:
    """One line of increment.meta: a JSON object with the names and limits of AddImage's parameters."""
    try:
        item = json.loads(text)
    except json.JSONDecodeError as error:
        raise BadMetaLine(f"The meta field is invalid: the line is not JSON: {error}") from None
    if not isinstance(item, dict):
        raise BadMetaLine("The meta field is invalid: the line is not a JSON object")
    for name, value in item.items():
        if isinstance(value, bool) or not isinstance(value, str | int):
            shown = json.dumps(value)[:50]
            raise BadMetaLine(
                f"The meta field is invalid: {name} must be a string or an integer, not {shown}"
            )
    values = {name: str(value) for name, value in item.items()}
    operation = values.get("OperationType", "").upper()
    if operation == "DELETE":
        pic_name = key_part(values, "pic_name") if values.get("PicName") else None
        return MetaLine("DELETE", key_part(values, "product_id"), pic_name)
    if operation != "ADD":
        what = f"OperationType must be ADD or DELETE, not {values.get('OperationType', '')!r}"
        raise BadMetaLine(f"The meta field is invalid: {what}")
    return MetaLine(
        "ADD",
        key_part(values, "product_id"),
        key_part(values, "pic_name"),
        category_id(values),
        region(values),
        attributes(values),
    )


def export_line(image: Image) -> str:
    """One image of a metadata export: every stored field but the vector, named as in increment.meta."""
    fields = {
        **{wire: image.value(name) for wire, name in IMAGE_FIELDS.items()},
        "Region": region_text(image.region),
    }
    return json.dumps(fields, ensure_ascii=False)
