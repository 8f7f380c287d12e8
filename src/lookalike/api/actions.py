"""One function per action of the 2020-12-14 API: parameters in, service call, response body out.

Handlers are plain functions run off the event loop; the router adds RequestId and renders errors.
"""

from __future__ import annotations

from collections.abc import Callable

from lookalike.api import jobs, responses
from lookalike.api.errors import no_such_action
from lookalike.api.params import Params
from lookalike.errors import LookalikeError
from lookalike.service.images import ImageService
from lookalike.service.models import AddImage, Picture, RequestKind

Handler = Callable[[Params, ImageService], dict]
# Bulk jobs answer with links to this server, so they see a `jobs.JobCall` instead of the image service.
JobHandler = Callable[[Params, jobs.JobCall], dict]

# The console's actions answer a refused instance with Console.NoPermission instead of NoPermission.
CONSOLE_ACTIONS = frozenset({"Detail", "DumpMeta", "DumpMetaList", "IncreaseInstance", "IncreaseList"})
# Detail reports no expiry time: a self-hosted instance never expires (9999-12-31T23:59:59Z, in ms).
NEVER_EXPIRES_MS = "253402300799000"


def instance_for(
    params: Params,
    service: ImageService,
    kind: RequestKind | None,
    *,
    missing_code: str = "InvalidInstanceName",
    not_found_code: str = "InvalidInstance",
) -> str:
    """The instance the request names, if the caller may use it, counted against its per-second limit."""
    name = params.instance_name(missing_code)
    try:
        service.instances.get(name)
    except LookalikeError as error:
        if error.code != "InvalidInstance" or not_found_code == error.code:
            raise
        raise LookalikeError(not_found_code, f"The specified instance is not found: {name!r}") from None
    if kind is not None:
        service.admit(name, kind)
    return name


def add_image(params: Params, service: ImageService) -> dict:
    request = AddImage(
        instance=instance_for(params, service, "add"),
        product_id=params.product_id(),
        pic_name=params.pic_name(),
        picture=params.picture(),
        category_id=params.category_id(),
        attributes=params.attributes(),
    )
    info = service.add(request)
    return responses.success(PicInfo=responses.pic_info(info))


def search_image_by_pic(params: Params, service: ImageService) -> dict:
    instance = instance_for(params, service, "search")
    picture, options = params.picture(), params.search_options()
    return responses.search(service.search_by_pic(instance, picture, options))


def search_image_by_name(params: Params, service: ImageService) -> dict:
    instance = instance_for(params, service, "search")
    product_id, pic_name, options = params.product_id(), params.pic_name(), params.search_options()
    return responses.search(service.search_by_name(instance, product_id, pic_name, options))


def delete_image(params: Params, service: ImageService) -> dict:
    instance = instance_for(params, service, "delete")
    if params.boolean("IsDeleteByFilter", False):
        deleted = service.delete_by_filter(instance, params.filter(required=True))
    else:
        product_id = params.product_id()
        deleted = service.delete(instance, product_id, params.optional_text("PicName"))
    return responses.success(Data={"PicNames": deleted})


def update_image(params: Params, service: ImageService) -> dict:
    instance = instance_for(params, service, "add")
    product_id, pic_name = params.product_id(), params.pic_name()
    service.update(instance, product_id, pic_name, params.attribute_changes())
    return responses.success()


def check_image_exists(params: Params, service: ImageService) -> dict:
    instance = instance_for(params, service, "search")
    record = service.get(instance, params.product_id(), params.pic_name())
    if record is None:
        return responses.success("Msg", Exists=False)
    return responses.success("Msg", Exists=True, Auctions=responses.record_fields(record))  # not a list


def compare_similar_by_image(params: Params, service: ImageService) -> dict:
    instance = instance_for(params, service, "search", not_found_code="Console.InstanceNotFound")
    primary, secondary = (
        Picture(params.picture_bytes(name, f"Invalid{name}", f"Invalid{name}"))
        for name in ("PrimaryPicContent", "SecondaryPicContent")
    )
    score = service.compare(instance, primary, secondary)
    return responses.success("Msg", Score=score)


def search_image_by_filter(params: Params, service: ImageService) -> dict:
    instance = instance_for(params, service, "search")
    filter, (num, start) = params.filter(required=True), params.page()
    records = service.search_by_filter(instance, filter, start, num)
    return responses.success("Msg", Auctions=list(map(responses.record_fields, records)))


def search_image_by_text(params: Params, service: ImageService) -> dict:
    instance = instance_for(params, service, "search")
    text, options = params.text(), params.search_options()
    return responses.text_search(service.search_by_text(instance, text, options))


def detail(params: Params, service: ImageService) -> dict:
    name = instance_for(
        params, service, None, missing_code="Console.BadRequest", not_found_code="Console.InstanceNotFound"
    )
    instance, count = service.detail(name)
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
        raise no_such_action(action) from None
