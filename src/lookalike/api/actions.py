"""One function per action of the 2020-12-14 API: parameters in, service call, response body out.

The bulk jobs' four actions are in `jobs`.
"""

from __future__ import annotations

from lookalike.api import jobs, responses
from lookalike.api.admin import ADMIN_ACTIONS
from lookalike.api.browse import BROWSE_ACTIONS
from lookalike.api.codes import Family
from lookalike.api.errors import ApiError, no_such_action
from lookalike.api.handlers import Backends, Handler, instance_for
from lookalike.api.params import Params
from lookalike.api.responses import Body
from lookalike.service.models import AddImage, Picture

# The console's actions: their errors are named as the console names them.
CONSOLE_ACTIONS = frozenset({"Detail", "DumpMeta", "DumpMetaList", "IncreaseInstance", "IncreaseList"})
# Detail reports no expiry time: a self-hosted instance never expires (9999-12-31T23:59:59Z, in ms).
NEVER_EXPIRES_MS = "253402300799000"


def add_image(params: Params, on: Backends) -> Body:
    request = AddImage(
        instance=instance_for(params, on.images, "add"),
        product_id=params.product_id(),
        pic_name=params.pic_name(),
        picture=params.picture(),
        category_id=params.category_id(),
        attributes=params.attributes(),
    )
    info = on.images.add(request)
    return responses.success(PicInfo=responses.pic_info(info))


def search_image_by_pic(params: Params, on: Backends) -> Body:
    instance = instance_for(params, on.images, "search")
    picture, options = params.picture(), params.search_options()
    return responses.search(on.images.search_by_pic(instance, picture, options))


def search_image_by_name(params: Params, on: Backends) -> Body:
    instance = instance_for(params, on.images, "search")
    product_id, pic_name, options = params.product_id(), params.pic_name(), params.search_options()
    return responses.search(on.images.search_by_name(instance, product_id, pic_name, options))


def delete_image(params: Params, on: Backends) -> Body:
    instance = instance_for(params, on.images, "delete")
    if params.boolean("IsDeleteByFilter", False):
        deleted = on.images.delete_by_filter(instance, params.required_filter())
    else:
        product_id = params.product_id()
        deleted = on.images.delete(instance, product_id, params.optional_text("PicName"))
    return responses.success(Data={"PicNames": deleted})


def update_image(params: Params, on: Backends) -> Body:
    instance = instance_for(params, on.images, "add")
    product_id, pic_name = params.product_id(), params.pic_name()
    on.images.update(instance, product_id, pic_name, params.attribute_changes())
    return responses.success()


def check_image_exists(params: Params, on: Backends) -> Body:
    instance = instance_for(params, on.images, "search")
    record = on.images.get(instance, params.product_id(), params.pic_name())
    if record is None:
        return responses.success("Msg", Exists=False)
    return responses.success("Msg", Exists=True, Auctions=responses.image_fields(record))  # not a list


def compare_similar_by_image(params: Params, on: Backends) -> Body:
    instance = instance_for(params, on.images, "search")
    primary, secondary = (
        Picture(params.picture_bytes(name, f"Invalid{name}", f"Invalid{name}"))
        for name in ("PrimaryPicContent", "SecondaryPicContent")
    )
    score = on.images.compare(instance, primary, secondary)
    return responses.success("Msg", Score=score)


def search_image_by_filter(params: Params, on: Backends) -> Body:
    instance = instance_for(params, on.images, "search")
    filter, (num, start) = params.required_filter(), params.page()
    records = on.images.search_by_filter(instance, filter, start, num)
    return responses.success("Msg", Auctions=list(map(responses.image_fields, records)))


def search_image_by_text(params: Params, on: Backends) -> Body:
    instance = instance_for(params, on.images, "search")
    text, options = params.text(), params.search_options()
    return responses.text_search(on.images.search_by_text(instance, text, options))


def detail(params: Params, on: Backends) -> Body:
    name = instance_for(params, on.images, None)
    instance, count = on.images.detail(name)
    return responses.success(
        None,
        Instance={
            "Name": instance.name,
            "Region": params.context.region_id,
            "Capacity": -(-instance.capacity // 10_000),  # in 10,000s of images, as the service counts
            "Qps": instance.search_qps,
            "ServiceType": instance.rules.service_type,
            "TotalCount": count,
            "UtcCreate": str(instance.created_ms),
            "UtcExpireTime": NEVER_EXPIRES_MS,
        },
    )


ACTIONS_2020: dict[str, Handler] = {
    "AddImage": add_image,
    "SearchImageByPic": search_image_by_pic,
    "SearchImageByName": search_image_by_name,
    "DeleteImage": delete_image,
    "UpdateImage": update_image,
    "CheckImageExists": check_image_exists,
    "CompareSimilarByImage": compare_similar_by_image,
    "SearchImageByFilter": search_image_by_filter,
    "SearchImageByText": search_image_by_text,
    "Detail": detail,
    "DumpMeta": jobs.dump_meta,
    "DumpMetaList": jobs.dump_meta_list,
    "IncreaseInstance": jobs.increase_instance,
    "IncreaseList": jobs.increase_list,
}


def family_of(action: str) -> Family:
    """Whose error codes the action answers with (api/codes.py)."""
    if action in CONSOLE_ACTIONS:
        return "console"
    if action in ADMIN_ACTIONS:
        return "admin"
    # The one image action whose documented codes name a missing instance as the console does.
    return "compare" if action == "CompareSimilarByImage" else "rpc"


def handler_for(version: str, action: str) -> Handler:
    if version != "2020-12-14":
        raise ApiError("InvalidVersion", f"Specified parameter Version is not valid: {version!r}", status=400)
    handler = ACTIONS_2020.get(action) or ADMIN_ACTIONS.get(action) or BROWSE_ACTIONS.get(action)
    if handler is None:
        raise no_such_action(action)
    return handler
