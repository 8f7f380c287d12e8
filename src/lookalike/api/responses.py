"""The JSON bodies the SDK models parse: PascalCase keys, and the exact JSON types the models expect."""

from __future__ import annotations

import math
from typing import Any, Literal

from lookalike.domain.image import Hit, Image
from lookalike.formats import IMAGE_FIELDS, region_text
from lookalike.service.models import PicInfo, SearchResult

# A JSON object of an answer, as the SDK models parse it.
Body = dict[str, Any]


def success(message_field: Literal["Message", "Msg"] | None = "Message", /, **fields: object) -> Body:
    """A successful answer: Success; Code 0 and "success" in the field the action's SDK model reads
    (`Message` or `Msg`; the console actions and Lookalike's own have neither); then the action's own
    fields."""
    body: Body = {"Success": True}
    if message_field is not None:
        body |= {"Code": 0, message_field: "success"}
    return body | fields


def pic_info(info: PicInfo) -> Body:
    return {
        "CategoryId": info.category_id,
        "Region": region_text(info.region),
        "MultiRegion": [{"Region": region_text(box)} for box in info.multi_region],
        "AllCategories": [{"Id": cid, "Name": name} for cid, name in info.categories.items()],
    }


def image_fields(image: Image) -> Body:
    """Every stored field of the image but its region and vector, by its wire name."""
    return {wire: image.value(name) for wire, name in IMAGE_FIELDS.items()}


def auction(hit: Hit) -> Body:
    # SortExprValues keeps the service's two-part form: relevance; distance (L2 between unit vectors).
    distance = math.sqrt(max(0.0, 2.0 - 2.0 * hit.score))
    return {
        **image_fields(hit.image),
        "Score": hit.score,
        "SortExprValues": f"{hit.score:.6g};{distance:.6g}",
    }


def search(result: SearchResult) -> Body:
    return success(
        "Msg",
        # The service's names look swapped, but this is what its documentation and examples show:
        # DocsFound is the number returned, DocsReturn the number that matched.
        Head={
            "DocsFound": len(result.hits),
            "DocsReturn": result.docs_matched,
            "SearchTime": result.search_ms,
        },
        PicInfo=pic_info(result.pic_info),
        Auctions=[auction(hit) for hit in result.hits],
    )


def text_search(result: SearchResult) -> Body:
    """SearchImageByText's answer: no SortExprValues, and a PicInfo with only the categories."""
    body = search(result)
    body["PicInfo"] = {"AllCategories": body["PicInfo"]["AllCategories"]}
    for item in body["Auctions"]:
        del item["SortExprValues"]
    return body
