"""The first Image Search protocol (API version 2018-01-20): `POST /item/add|search|delete?instanceName=..`.

The body is `meta^content`. The meta is `key,start,end` items joined by `#`; each key's value is the
bytes `content[start:end]` (byte offsets, as the official Python SDK computed them on byte strings). The
keys are `item_id`, `cat_id`, `cust_content`, `crop`, `region`, `n`, `s` and `pic_list` (the base64 of each
picture name, joined by commas); each picture's base64 content is the value of the key that is its base64
name (the "pic_map"). Requests carry the ROA signature (`Authorization: acs <AccessKeyId>:<Signature>`),
whose Content-MD5 is all that protects the body, so it is required here.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Mapping

from lookalike.api.errors import ApiError
from lookalike.api.handlers import instance_for
from lookalike.api.params import Params, RequestContext, decode_base64
from lookalike.api.responses import Body, success
from lookalike.formats import region_text
from lookalike.service.images import ImageService
from lookalike.service.models import AddImage, Picture

LegacyHandler = Callable[[Params, Mapping[str, bytes], ImageService], Body]

# The legacy body's names of the parameters the 2020-12-14 API also has.
PARAM_NAMES = {
    "item_id": "ProductId",
    "cat_id": "CategoryId",
    "cust_content": "CustomContent",
    "crop": "Crop",
    "region": "Region",
    "n": "Num",
    "s": "Start",
}
_OFFSET = re.compile(rb"[0-9]{1,10}")
_KEY_FORBIDDEN = set(",#^")


def encode_body(fields: Mapping[str, bytes]) -> bytes:
    """The `meta^content` body of the given values, in their order."""
    meta, offset = [], 0
    for key, value in fields.items():
        if not key or not key.isascii() or not key.isprintable() or _KEY_FORBIDDEN.intersection(key):
            raise ValueError(f"not a legacy body key: {key!r}")
        meta.append(f"{key},{offset},{offset + len(value)}")
        offset += len(value)
    return "#".join(meta).encode() + b"^" + b"".join(fields.values())


def decode_body(body: bytes) -> dict[str, bytes]:
    """The values of a `meta^content` body, by key; the documented error for each way it can be wrong."""
    meta, caret, content = body.partition(b"^")
    if not caret:
        raise ApiError(
            "NoCaretSeperator", "The body content is missing the ^ separator: a body is meta^content"
        )
    if not meta.strip():
        raise ApiError("EmptyMeta", "The body content has an empty meta field: nothing precedes the ^")
    fields: dict[str, bytes] = {}
    for item in meta.split(b"#"):
        parts = item.split(b",")
        if len(parts) != 3 or not parts[0] or not all(_OFFSET.fullmatch(p) for p in parts[1:]):
            raise _invalid_item(item, "each item is key,start,end with decimal offsets")
        if not parts[0].isascii():
            raise _invalid_item(item, "keys are ASCII")
        key, start, end = parts[0].decode(), int(parts[1]), int(parts[2])
        if not start <= end <= len(content):
            raise _invalid_item(item, f"offsets need start <= end <= {len(content)} (the content's length)")
        if key in fields:
            raise _invalid_item(item, "the key occurs twice")
        fields[key] = content[start:end]
    return fields


def legacy_params(query: Mapping[str, str], fields: Mapping[str, bytes], context: RequestContext) -> Params:
    """The parameters the 2020-12-14 API shares, under its names, so they are checked by the same rules."""
    values = {"InstanceName": query.get("instanceName", "")}
    for name, param in PARAM_NAMES.items():
        if name in fields:
            values[param] = _text(fields, name)
    return Params(values, context)


def add_item(params: Params, fields: Mapping[str, bytes], service: ImageService) -> Body:
    instance = instance_for(params, service, "add")
    product_id, category, attributes = _item_id(params), params.category_id(), params.attributes()
    crop, box = params.boolean("Crop", True), params.region()  # for every picture of the item
    service.add_many(
        [
            AddImage(instance, product_id, name, Picture(data, crop, box), category, attributes)
            for name, data in _pictures(fields, with_content=True)
        ]
    )
    return success()


def search_item(params: Params, fields: Mapping[str, bytes], service: ImageService) -> Body:
    instance = instance_for(params, service, "search")
    found = _pictures(fields, with_content=True)
    if len(found) != 1:
        raise ApiError(
            "InvalidPicList",
            f"The specified pic_list parameter is invalid: a search names one picture, not {len(found)}",
        )
    (_, data), options = found[0], params.search_options()
    result = service.search_by_pic(
        instance, Picture(data, params.boolean("Crop", True), params.region()), options
    )
    categories = result.pic_info.categories
    return success(
        # Here DocsReturn is the number returned and DocsFound the number that matched, as the
        # legacy documentation describes them.
        Head={
            "DocsReturn": len(result.hits),
            "DocsFound": result.docs_matched,
            "SearchTime": result.search_ms,
        },
        PicInfo={
            "Category": str(result.pic_info.category_id),
            "Region": region_text(result.pic_info.region),
            "AllCategory": {"Category": [{"Id": str(cid), "Name": name} for cid, name in categories.items()]},
        },
        Auctions={
            "Auction": [
                {
                    "ProductId": hit.image.product_id,
                    "PicName": hit.image.pic_name,
                    "CatId": str(hit.image.category_id),
                    "CustContent": hit.image.attributes.custom_content,
                    "SortExprValues": f"{hit.score:.6g};0",
                }
                for hit in result.hits
            ]
        },
    )


def delete_item(params: Params, fields: Mapping[str, bytes], service: ImageService) -> Body:
    instance = instance_for(params, service, "delete")
    product_id = _item_id(params)
    names: list[str | None] = [name for name, _ in _pictures(fields, required=False)]
    for pic_name in names or [None]:  # no pic_list: every picture of the item
        service.delete(instance, product_id, pic_name)
    return success()


# By the last part of the path.
LEGACY_ACTIONS: dict[str, LegacyHandler] = {"add": add_item, "search": search_item, "delete": delete_item}


def _item_id(params: Params) -> str:
    if not params.get("ProductId"):
        raise ApiError("NoSpecifiedItemId", "The item_id parameter is not specified: it names the item")
    return params.product_id()


def _pictures(
    fields: Mapping[str, bytes], *, required: bool = True, with_content: bool = False
) -> list[tuple[str, bytes]]:
    """(name, bytes) of each picture of pic_list; the bytes only `with_content` (else b"")."""
    listed = fields.get("pic_list", b"").strip()
    if not listed:
        if required:
            raise ApiError(
                "NoPicList",
                "The body content is missing the pic_list parameter: base64 picture names, comma-separated",
            )
        return []
    found = []
    for encoded in listed.split(b","):
        try:
            name = base64.b64decode(encoded, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            name = ""
        if not name:
            raise ApiError(
                "InvalidPicList",
                f"The specified pic_list parameter is invalid: {encoded[:60]!r} is not a base64 picture name",
            )
        data = b""
        if with_content:
            key = encoded.decode()
            if not fields.get(key):
                raise ApiError(
                    "NoSpecifiedPic",
                    f"The content of an image is not specified in the HTTP POST body: no value for {key}",
                )
            data = decode_base64(fields[key].decode("ascii", errors="replace"), f"the content of {name}")
        found.append((name, data))
    return found


def _text(fields: Mapping[str, bytes], name: str) -> str:
    try:
        return fields[name].decode("utf-8")
    except UnicodeDecodeError:
        raise ApiError(
            "BadRequest", f"The request has invalid parameters: {name} is not UTF-8 text"
        ) from None


def _invalid_item(item: bytes, rule: str) -> ApiError:
    return ApiError("InvalidMetaItem", f"The meta field is invalid: {item[:60]!r}: {rule}")
