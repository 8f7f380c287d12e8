"""Each documented error code of the newer actions that Lookalike can reach, with its HTTP status.

The codes of AddImage, SearchImageByPic/ByName and DeleteImage are in test_errors.py; DeniedRequest,
NoPermission and InstanceOverQuota in test_limits.py; the caret body's in test_legacy.py; InvalidType and
the 2019 shapes in test_sdk2019.py. Codes the metadata lists but Lookalike never answers, and why:

- Caret-body codes (EmptyMeta, NoCaretSeperator, InvalidMetaItem, NoPicList, InvalidPicList, NoSpecifiedPic,
  NoSpecifiedItemId, NoSpecifiedAddPic, NoSpecifiedSearchPic) for UpdateImage, CompareSimilarByImage and
  SearchImageByText: only the first protocol (/item/*) has caret bodies, and it has no such actions.
- Codes of parameters an action does not have: e.g. InvalidCategory, InvalidFilterClause, InvalidType,
  InvalidNumParameter, IncorrectOrientation or InvalidPicContent for UpdateImage (no category, filter, type,
  page or picture); InvalidProductId or InvalidCustomContent for SearchImageByText; InvalidRequestId and
  InvalidRequestIdTooLarge (no RequestId parameter); BadRequest for UpdateImage (no boolean or threshold).
- PicNotExist for CompareSimilarByImage and SearchImageByText (no stored picture is named); InstanceOverQuota
  for UpdateImage and CompareSimilarByImage (they never add an image).
- UnsupportedPictureFormat: UnsupportedPicFormat is answered for an unsupported format, as by every action.
- The cloud console's account machinery: Console.PidError, NeedRegisterBeforeInvoke,
  Console.NoPermissionError, Console.NotAllowedModifyToken, Console.TaskAlreadyExist, Console.LoginError
  (signatures fail with the POP codes instead), and for Detail Console.*StatusError (409: Detail changes
  no order or increment; the jobs' 409s are in test_jobs.py).
- DeniedRequest for Detail: Detail only reads an instance's settings and count, so it is not rate-limited.
- InstanceStatusError: an instance here is always available. Timeouts (SearchTimeout, TimeoutForTransferImage,
  ExtractFeatureTimeout, RequestTimeout): no request is cut short. PictureError: no URL is downloaded.
- 500s of the cloud's internals (AccessEngineFailed, Internal*Error, NetworkException, UnknownException,
  UnsupportedInstanceType, ConnectionDVException, ServerInternalError, Console.InternalError,
  Console.CallServiceError): an unexpected failure here is 500 InternalError, which no test provokes.
"""

from __future__ import annotations

import pytest
from alibabacloud_imagesearch20201214 import models
from alibabacloud_tea_openapi.exceptions import AlibabaCloudException

from tests.acceptance.conftest import create_instance
from tests.acceptance.sdk import add, b64, make_client
from tests.acceptance.test_errors import png_header_only, rotated_jpeg
from tests.conftest import jpeg, photo_image

LONG_ID = "x" * 257
# name -> (SDK method, request model); each case below fills the fields it needs.
ACTIONS = {
    "UpdateImage": ("update_image", models.UpdateImageRequest),
    "CheckImageExists": ("check_image_exists", models.CheckImageExistsRequest),
    "CompareSimilarByImage": ("compare_similar_by_image", models.CompareSimilarByImageRequest),
    "SearchImageByFilter": ("search_image_by_filter", models.SearchImageByFilterRequest),
    "SearchImageByText": ("search_image_by_text", models.SearchImageByTextRequest),
    "Detail": ("detail", models.DetailRequest),
}
STORED = {"product_id": "p", "pic_name": "a.jpg"}
CASES = [
    ("UpdateImage", {"instance_name": None, **STORED}, "InvalidInstanceName", 400),
    ("UpdateImage", {"instance_name": "nosuch", **STORED}, "InvalidInstance", 400),
    ("UpdateImage", {"pic_name": "a.jpg"}, "NoSpecifiedProductId", 400),
    ("UpdateImage", {"product_id": "p"}, "NoSpecifiedPicName", 400),
    ("UpdateImage", {"product_id": LONG_ID, "pic_name": "a.jpg"}, "InvalidProductId", 400),
    ("UpdateImage", {"product_id": "p", "pic_name": LONG_ID}, "InvalidPicName", 400),
    ("UpdateImage", {**STORED, "custom_content": "c" * 4097}, "InvalidCustomContent", 400),
    ("UpdateImage", {**STORED, "int_attr": 2**31}, "InvalidIntAttr", 400),
    ("UpdateImage", {**STORED, "int_attr_2": -(2**31) - 1}, "InvalidIntAttr2", 400),
    ("UpdateImage", {**STORED, "int_attr_3": 2**40}, "InvalidIntAttr3", 400),  # in the query string
    ("UpdateImage", {**STORED, "int_attr_4": 2**40}, "InvalidIntAttr4", 400),
    ("UpdateImage", {**STORED, "str_attr": "a&b"}, "InvalidStrAttr", 400),
    ("UpdateImage", {**STORED, "str_attr_2": "s" * 129}, "InvalidStrAttr2", 400),
    ("UpdateImage", {**STORED, "str_attr_3": "100%"}, "InvalidStrAttr3", 400),
    ("UpdateImage", {**STORED, "str_attr_4": "$"}, "InvalidStrAttr4", 400),
    ("UpdateImage", {"product_id": "p", "pic_name": "missing.jpg"}, "PicNotExist", 400),
    ("CheckImageExists", {"instance_name": None, **STORED}, "InvalidInstanceName", 400),
    ("CheckImageExists", {"instance_name": "nosuch", **STORED}, "InvalidInstance", 400),
    ("CheckImageExists", {"pic_name": "a.jpg"}, "NoSpecifiedProductId", 400),
    ("CheckImageExists", {"product_id": "p"}, "NoSpecifiedPicName", 400),
    ("CheckImageExists", {"product_id": LONG_ID, "pic_name": "a"}, "InvalidProductId", 400),
    ("CheckImageExists", {"product_id": "p", "pic_name": LONG_ID}, "InvalidPicName", 400),
    ("CompareSimilarByImage", {"instance_name": "nosuch"}, "Console.InstanceNotFound", 400),
    ("CompareSimilarByImage", {"instance_name": None}, "InvalidInstanceName", 400),
    ("CompareSimilarByImage", {"primary_pic_content": None}, "InvalidPrimaryPicContent", 400),
    ("CompareSimilarByImage", {"primary_pic_content": "not base64!"}, "InvalidPrimaryPicContent", 400),
    ("CompareSimilarByImage", {"secondary_pic_content": None}, "InvalidSecondaryPicContent", 400),
    ("CompareSimilarByImage", {"secondary_pic_content": "%%%"}, "InvalidSecondaryPicContent", 400),
    ("CompareSimilarByImage", {"primary_pic_content": "A" * (6 * 1024 * 1024)}, "InvalidPicContent", 400),
    ("CompareSimilarByImage", {"secondary_pic_content": b64(b"%PDF-1.4")}, "UnsupportedPicFormat", 400),
    (
        "CompareSimilarByImage",
        {"primary_pic_content": b64(png_header_only(9000, 50))},
        "UnsupportedPicPixels",
        400,
    ),
    ("CompareSimilarByImage", {"secondary_pic_content": "rotated"}, "IncorrectOrientation", 400),
    ("CompareSimilarByImage", {"primary_pic_content": "http://example.com/a.jpg"}, "InvalidPicUrl", 400),
    ("SearchImageByFilter", {"filter": None}, "InvalidFilterClause", 400),
    ("SearchImageByFilter", {"filter": "price>3"}, "InvalidFilterClause", 400),
    ("SearchImageByFilter", {"filter": "int_attr>0", "num": 0}, "InvalidNumParameter", 400),
    ("SearchImageByFilter", {"filter": "int_attr>0", "num": 101}, "OverflowMaxReturnNum", 400),
    ("SearchImageByFilter", {"filter": "int_attr>0", "start": -1}, "InvalidStartParameter", 400),
    ("SearchImageByFilter", {"filter": "int_attr>0", "start": 500}, "OverflowMaxResultNum", 400),
    ("SearchImageByFilter", {"instance_name": "nosuch", "filter": "int_attr>0"}, "InvalidInstance", 400),
    ("SearchImageByText", {"text": None}, "InvalidText", 400),
    ("SearchImageByText", {"text": "t" * 513}, "InvalidTextLength", 400),
    ("SearchImageByText", {"text": "red", "filter": "int_attr >"}, "InvalidFilterClause", 400),
    ("SearchImageByText", {"text": "red", "num": 101}, "OverflowMaxReturnNum", 400),
    ("SearchImageByText", {"text": "red", "num": -3}, "InvalidNumParameter", 400),
    ("SearchImageByText", {"text": "red", "start": 500}, "OverflowMaxResultNum", 400),
    ("SearchImageByText", {"text": "red", "start": -1}, "InvalidStartParameter", 400),
    ("SearchImageByText", {"text": "red", "distinct_product_id": "maybe"}, "BadRequest", 400),
    ("SearchImageByText", {"text": "red", "score_threshold": "2"}, "BadRequest", 400),
    ("SearchImageByText", {"instance_name": "nosuch", "text": "red"}, "InvalidInstance", 400),
    ("SearchImageByText", {"instance_name": None, "text": "red"}, "InvalidInstanceName", 400),
    ("SearchImageByText", {"text": "red"}, "UnsupportedOperationType", 500),
    ("Detail", {"instance_name": None}, "Console.BadRequest", 400),
    ("Detail", {"instance_name": "nosuch"}, "Console.InstanceNotFound", 400),
]


@pytest.fixture(scope="module")
def stored(server, photos) -> str:
    """An instance holding one image, (p, a.jpg)."""
    instance = create_instance(server.data_dir)
    add(make_client(server.endpoint), instance, "p", "a.jpg", photos["coffee"])
    return instance


def request_for(action: str, fields: dict, instance: str, photos: dict[str, bytes]):
    values = {"instance_name": instance} | fields
    if action == "CompareSimilarByImage":
        values = {
            "primary_pic_content": b64(photos["coffee"]),
            "secondary_pic_content": b64(photos["rocket"]),
        } | values
        for name, value in values.items():
            if value == "rotated":
                values[name] = b64(rotated_jpeg())
    return ACTIONS[action][1](**{k: v for k, v in values.items() if v is not None})


@pytest.mark.parametrize(
    ("action", "fields", "code", "status"), CASES, ids=[f"{a}-{c}" for a, _, c, _ in CASES]
)
def test_documented_error(client, stored, photos, action, fields, code, status):
    with pytest.raises(AlibabaCloudException) as info:
        getattr(client, ACTIONS[action][0])(request_for(action, fields, stored, photos))
    assert (info.value.code, info.value.status_code) == (code, status), info.value.message
    assert len(info.value.data["Message"]) > 20  # says what was wrong


def test_each_action_is_covered():
    assert {action for action, *_ in CASES} == set(ACTIONS)


def test_the_same_valid_requests_succeed(client, stored, photos):
    """The table's baseline: without the fault, each request is answered."""
    assert client.update_image(request_for("UpdateImage", STORED, stored, photos)).body.success
    assert client.check_image_exists(request_for("CheckImageExists", STORED, stored, photos)).body.exists
    assert client.compare_similar_by_image(
        request_for("CompareSimilarByImage", {}, stored, photos)
    ).body.success
    assert client.detail(request_for("Detail", {}, stored, photos)).body.instance.total_count == 1
    small = jpeg(photo_image("coffee").resize((200, 150)))
    assert (
        client.compare_similar_by_image(
            request_for("CompareSimilarByImage", {"secondary_pic_content": b64(small)}, stored, photos)
        ).body.score
        > 0.5
    )
