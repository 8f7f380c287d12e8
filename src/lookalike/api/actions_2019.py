"""The 2019-03-25 API, ROA style: `POST /v2/image/add|search|delete`, form parameters.

The same catalog and rules as 2020-12-14; the answers carry only the fields of the 2019 response models.
"""

from __future__ import annotations

from lookalike.api import actions, responses
from lookalike.api.errors import ApiError
from lookalike.api.handlers import Backends, Handler, instance_for
from lookalike.api.params import Params
from lookalike.api.responses import Body

AUCTION_FIELDS = (
    "ProductId", "PicName", "CategoryId", "CustomContent", "IntAttr", "StrAttr", "Score", "SortExprValues",
)  # fmt: skip
SEARCH_TYPES: dict[str, Handler] = {
    "SearchByPic": actions.search_image_by_pic,
    "SearchByName": actions.search_image_by_name,
}


def add_image(params: Params, on: Backends) -> Body:
    info = actions.add_image(params, on)["PicInfo"]
    return responses.success(PicInfo={"CategoryId": info["CategoryId"], "Region": info["Region"]})


def search_image(params: Params, on: Backends) -> Body:
    kind = params.get("Type") or "SearchByPic"
    if kind not in SEARCH_TYPES:
        raise ApiError(
            "InvalidType",
            f"The specified parameter Type is not valid: {kind!r}; use {' or '.join(SEARCH_TYPES)}",
        )
    body = SEARCH_TYPES[kind](params, on)
    body["Auctions"] = [{name: item[name] for name in AUCTION_FIELDS} for item in body["Auctions"]]
    return body


def delete_image(params: Params, on: Backends) -> Body:
    instance = instance_for(params, on.images, "delete")
    on.images.delete(instance, params.product_id(), params.optional_text("PicName"))
    return responses.success()


# By the last part of the path.
ACTIONS_2019: dict[str, Handler] = {"add": add_image, "search": search_image, "delete": delete_image}
