"""The wire's names of the domain's fields: PascalCase, as the SDKs' models and parameters spell them."""

from __future__ import annotations

from lookalike.domain.image import SCALAR_FIELDS


def wire_name(field: str) -> str:
    """`int_attr2` -> `IntAttr2`, `custom_content` -> `CustomContent`, `product_id` -> `ProductId`."""
    return "".join(part.capitalize() for part in field.split("_"))


# Every scalar field of a stored image by its wire name, in the order answers list them.
IMAGE_FIELDS = {wire_name(name): name for name in SCALAR_FIELDS}
