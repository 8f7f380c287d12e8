"""Lookalike's own actions for looking through an instance's images, for the console: a page of its images
at a time, and the thumbnails of those a page shows.

They take the rights of the image actions: a key limited to instances may use them on its instances. They are
not counted against an instance's requests per second: looking is not searching.
"""

from __future__ import annotations

import base64
import json

from lookalike.api.errors import ApiError
from lookalike.api.handlers import Backends, Handler, instance_for
from lookalike.api.params import Params
from lookalike.api.responses import Body, image_fields, success
from lookalike.domain.image import ImageKey
from lookalike.formats import region_text

MAX_PAGE = 100


def list_images(params: Params, on: Backends) -> Body:
    """One page of the images the Filter matches (all without one), in a stable order; NextCursor is
    empty on the last page."""
    instance = instance_for(params, on.images, None)
    filter, cursor = params.filter(), params.optional_text("Cursor")
    limit = params.integer("Limit", "InvalidParameter", default=20, low=1, high=MAX_PAGE)
    try:
        images, next_cursor = on.images.page(instance, filter, cursor, limit)
    except ValueError as error:  # a cursor that is not one
        raise ApiError("InvalidParameter", f"The specified parameter Cursor is not valid: {error}") from None
    return success(
        None,
        Images=[{**image_fields(image), "Region": region_text(image.region)} for image in images],
        NextCursor=next_cursor or "",
        TotalCount=on.images.count(instance, filter),
    )


def get_thumbnails(params: Params, on: Backends) -> Body:
    """The thumbnails (base64 JPEG) of up to 100 images named in Keys, a JSON list of {ProductId,
    PicName}; an image without one is left out."""
    instance = instance_for(params, on.images, None)
    keys = _keys(params.required("Keys", "InvalidParameter"))
    found = on.images.thumbnails(instance, keys)
    return success(
        None,
        Thumbnails=[
            {"ProductId": k.product_id, "PicName": k.pic_name, "Data": base64.b64encode(data).decode()}
            for k, data in found.items()
        ],
    )


BROWSE_ACTIONS: dict[str, Handler] = {
    "LookalikeListImages": list_images,
    "LookalikeGetThumbnails": get_thumbnails,
}


def _keys(text: str) -> list[ImageKey]:
    invalid = ApiError(
        "InvalidParameter",
        f"The specified parameter Keys is not valid: a JSON list of at most {MAX_PAGE} "
        '{"ProductId": .., "PicName": ..}',
    )
    try:
        items = json.loads(text)
    except ValueError:
        raise invalid from None
    if not isinstance(items, list) or len(items) > MAX_PAGE:
        raise invalid
    keys = []
    for item in items:
        if not isinstance(item, dict):
            raise invalid
        product_id, pic_name = item.get("ProductId"), item.get("PicName")
        if not isinstance(product_id, str) or not isinstance(pic_name, str):
            raise invalid
        keys.append(ImageKey(product_id, pic_name))
    return keys
