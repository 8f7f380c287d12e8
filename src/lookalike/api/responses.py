"""The JSON bodies the SDK models parse: PascalCase keys, and the exact JSON types the models expect."""

from __future__ import annotations

import math
from typing import Literal

from lookalike.service.models import PicInfo, SearchResult
from lookalike.store.base import Hit, ImageRecord
from lookalike.vision.subjects import Box


def success(message_field: Literal["Message", "Msg"] | None = "Message", /, **fields: object) -> dict:
    """A successful answer: Success; Code 0 and "success" in the field the action's SDK model reads
    (`Message` or `Msg`; the console actions have neither); then the action's own fields."""
    body: dict[str, object] = {"Success": True}
    if message_field is not None:
        body |= {"Code": 0, message_field: "success"}
    return body | fields


def region(box: Box) -> str:
    return f"{box.x1},{box.x2},{box.y1},{box.y2}"


def pic_info(info: PicInfo) -> dict:
    return {
        "CategoryId": info.category_id,
        "Region": region(info.region),
        "MultiRegion": [{"Region": region(box)} for box in info.multi_region],
        "AllCategories": [{"Id": cid, "Name": name} for cid, name in info.categories.items()],
    }


def record_fields(record: ImageRecord) -> dict:
    return {
        "ProductId": record.product_id,
        "PicName": record.pic_name,
        "CategoryId": record.category_id,
        "CustomContent": record.custom_content,
        "IntAttr": record.int_attr,
        "IntAttr2": record.int_attr2,
        "IntAttr3": record.int_attr3,
        "IntAttr4": record.int_attr4,
        "StrAttr": record.str_attr,
        "StrAttr2": record.str_attr2,
        "StrAttr3": record.str_attr3,
        "StrAttr4": record.str_attr4,
    }


def auction(hit: Hit) -> dict:
    # SortExprValues keeps the service's two-part form: relevance; distance (L2 between unit vectors).
    distance = math.sqrt(max(0.0, 2.0 - 2.0 * hit.score))
    return {
        **record_fields(hit.record),
        "Score": hit.score,
        "SortExprValues": f"{hit.score:.6g};{distance:.6g}",
    }


def search(result: SearchResult) -> dict:
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


def text_search(result: SearchResult) -> dict:
    """SearchImageByText's answer: no SortExprValues, and a PicInfo with only the categories."""
    body = search(result)
    body["PicInfo"] = {"AllCategories": body["PicInfo"]["AllCategories"]}
    for item in body["Auctions"]:
        del item["SortExprValues"]
    return body
