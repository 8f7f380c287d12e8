"""One function per action of the 2020-12-14 API: parameters in, service call, response body out.

Handlers are plain functions run off the event loop; the router adds RequestId and renders errors.
"""

from __future__ import annotations

from collections.abc import Callable

from lookalike.api import jobs, responses
from lookalike.api.params import Params
from lookalike.errors import LookalikeError
from lookalike.service.images import ImageService
from lookalike.service.models import AddImage

Handler = Callable[[Params, ImageService], dict]
# Bulk jobs answer with links to this server, so they see a `jobs.JobCall` instead of the image service.
JobHandler = Callable[[Params, jobs.JobCall], dict]


def add_image(params: Params, service: ImageService) -> dict:
    request = AddImage(
        instance=params.instance_name(),
        product_id=params.product_id(),
        pic_name=params.pic_name(),
        picture=params.picture(),
        category_id=params.category_id(),
        attributes=params.attributes(),
    )
    info = service.add(request)
    return {"Success": True, "Code": 0, "Message": "success", "PicInfo": responses.pic_info(info)}


def search_image_by_pic(params: Params, service: ImageService) -> dict:
    instance = params.instance_name()
    picture, options = params.picture(), params.search_options()
    return responses.search(service.search_by_pic(instance, picture, options))


def search_image_by_name(params: Params, service: ImageService) -> dict:
    instance = params.instance_name()
    product_id, pic_name, options = params.product_id(), params.pic_name(), params.search_options()
    return responses.search(service.search_by_name(instance, product_id, pic_name, options))


def delete_image(params: Params, service: ImageService) -> dict:
    instance = params.instance_name()
    if params.boolean("IsDeleteByFilter", False):
        deleted = service.delete_by_filter(instance, params.filter(required=True))
    else:
        product_id = params.product_id()
        deleted = service.delete(instance, product_id, params.optional_text("PicName"))
    return {"Success": True, "Code": 0, "Message": "success", "Data": {"PicNames": deleted}}


ACTIONS_2020: dict[str, Handler] = {
    "AddImage": add_image,
    "SearchImageByPic": search_image_by_pic,
    "SearchImageByName": search_image_by_name,
    "DeleteImage": delete_image,
}

JOB_ACTIONS_2020: dict[str, JobHandler] = {
    "DumpMeta": jobs.dump_meta,
    "DumpMetaList": jobs.dump_meta_list,
    "IncreaseInstance": jobs.increase_instance,
    "IncreaseList": jobs.increase_list,
}


def handler_for(version: str, action: str) -> Handler | JobHandler:
    if version != "2020-12-14":
        raise LookalikeError(
            "InvalidVersion", f"Specified parameter Version is not valid: {version!r}", status=400
        )
    try:
        return ACTIONS_2020[action] if action in ACTIONS_2020 else JOB_ACTIONS_2020[action]
    except KeyError:
        raise LookalikeError(
            "InvalidAction.NotFound",
            f"Specified api is not found, please check your url and method: {action}",
            404,
        ) from None
