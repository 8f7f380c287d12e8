"""The first protocol: `POST /item/add|search|delete?instanceName=..` with a `meta^content` caret body.

Requests are signed by aliyunsdkcore's own ROA signer (RoaRequest, API version 2018-01-20), as the first
official SDK (aliyun-python-sdk-imagesearch 1.x, Python 2 only) did; the body is built here by the format the
documentation and that SDK describe, independently of the server's codec.
"""

from __future__ import annotations

import base64
import json

import pytest
from alibabacloud_tea_openapi import models as open_api_models
from alibabacloud_tea_openapi import utils_models
from alibabacloud_tea_openapi.client import Client as OpenApiClient
from alibabacloud_tea_openapi.exceptions import ClientException
from aliyunsdkcore.acs_exception.exceptions import ServerException
from aliyunsdkcore.client import AcsClient
from aliyunsdkcore.request import RoaRequest
from darabonba.runtime import RuntimeOptions

from tests.acceptance.sdk import found, make_client, search_pic
from tests.acceptance.server import ACCESS_KEY_ID, ACCESS_KEY_SECRET


def b64(data: bytes | str) -> str:
    return base64.b64encode(data.encode() if isinstance(data, str) else data).decode()


def caret_body(fields: dict[str, str]) -> bytes:
    """`key,start,end#...^values`, as the first SDK's build_content wrote it (offsets in bytes)."""
    meta, content, start = [], b"", 0
    for key, value in fields.items():
        data = value.encode()
        meta.append(f"{key},{start},{start + len(data)}")
        content += data
        start += len(data)
    return "#".join(meta).encode() + b"^" + content


def item_fields(item_id: str, pictures: dict[str, bytes], **extra: str) -> dict[str, str]:
    fields = {"item_id": item_id, **extra, "pic_list": ",".join(b64(name) for name in pictures)}
    return fields | {b64(name): b64(data) for name, data in pictures.items()}


class LegacyClient:
    def __init__(self, endpoint: str):
        self.endpoint = endpoint
        self.acs = AcsClient(ACCESS_KEY_ID, ACCESS_KEY_SECRET, "cn-shanghai")

    def call(self, verb: str, instance: str, body: bytes) -> dict:
        request = RoaRequest("ImageSearch", "2018-01-20", verb.title() + "Item")
        request.set_uri_pattern(f"/item/{verb}")
        request.set_method("POST")
        request.set_accept_format("JSON")
        request.set_endpoint(self.endpoint)
        request.set_content_type("application/octet-stream;charset=utf-8")
        request.add_query_param("instanceName", instance)
        request.set_content(body)
        return json.loads(self.acs.do_action_with_exception(request))


@pytest.fixture
def legacy(server) -> LegacyClient:
    return LegacyClient(server.endpoint)


@pytest.fixture
def sdk(server):
    return make_client(server.endpoint)


def test_add_an_item_with_two_pictures_then_search_and_delete(legacy, sdk, instance, photos):
    pictures = {"front.jpg": photos["coffee"], "背面.jpg": photos["rocket"]}
    fields = item_fields("item-1", pictures, cat_id="3", cust_content="k1:v1,中文")
    added = legacy.call("add", instance, caret_body(fields))
    assert (added["Success"], added["Code"], added["Message"]) == (True, 0, "success")
    # the same catalog the newer protocols see
    assert sorted(found(search_pic(sdk, instance, photos["rocket"]))) == [
        ("item-1", "front.jpg"),
        ("item-1", "背面.jpg"),
    ]

    fields = {
        "s": "0",
        "n": "5",
        "cat_id": "3",
        "pic_list": b64("searchPic"),
        b64("searchPic"): b64(photos["rocket"]),
    }
    body = legacy.call("search", instance, caret_body(fields))
    first = body["Auctions"]["Auction"][0]
    assert (first["ProductId"], first["PicName"], first["CatId"], first["CustContent"]) == (
        "item-1",
        "背面.jpg",
        "3",
        "k1:v1,中文",
    )
    assert float(first["SortExprValues"].split(";")[0]) == pytest.approx(1.0, abs=1e-4)
    assert body["Head"]["DocsReturn"] == 2 and body["PicInfo"]["Category"] == "3"
    assert {c["Id"] for c in body["PicInfo"]["AllCategory"]["Category"]} >= {"0", "3", "88888888"}

    deleted = legacy.call("delete", instance, caret_body({"item_id": "item-1", "pic_list": b64("背面.jpg")}))
    assert deleted["Success"] is True
    assert found(search_pic(sdk, instance, photos["rocket"])) == [("item-1", "front.jpg")]
    legacy.call("delete", instance, caret_body({"item_id": "item-1"}))  # no pic_list: every picture
    assert found(search_pic(sdk, instance, photos["rocket"])) == []


def test_an_item_is_added_whole_or_not_at_all(legacy, sdk, instance, photos):
    fields = item_fields("item-2", {"good.jpg": photos["coffee"], "bad.jpg": b"not a picture"}, cat_id="0")
    with pytest.raises(ServerException) as info:
        legacy.call("add", instance, caret_body(fields))
    assert info.value.get_error_code() == "UnsupportedPicFormat"
    assert found(search_pic(sdk, instance, photos["coffee"])) == []


GOOD = {"item_id": "i", "pic_list": b64("a.jpg"), b64("a.jpg"): "AAAA"}


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"item_id,0,1 i", "NoCaretSeperator"),
        (b"^i", "EmptyMeta"),
        (b"item_id,0,9^i", "InvalidMetaItem"),
        (b"item_id;0;1^i", "InvalidMetaItem"),
        (caret_body({"item_id": "i"}), "NoPicList"),
        (caret_body({"item_id": "i", "pic_list": "not base64!"}), "InvalidPicList"),
        (caret_body({"item_id": "i", "pic_list": b64("a.jpg")}), "NoSpecifiedPic"),
        (caret_body({"pic_list": b64("a.jpg"), b64("a.jpg"): "AAAA"}), "NoSpecifiedItemId"),
        (caret_body(GOOD | {"cat_id": "12345"}), "InvalidCategory"),
        (caret_body(GOOD | {"region": "1,2"}), "InvalidRegion"),
    ],
)
def test_add_errors(legacy, instance, body, code):
    with pytest.raises(ServerException) as info:
        legacy.call("add", instance, body)
    assert (info.value.get_error_code(), info.value.get_http_status()) == (code, 400)
    assert ":" in info.value.get_error_msg()


def test_search_names_exactly_one_picture(legacy, instance, photos):
    fields = item_fields("unused", {"a.jpg": photos["coffee"], "b.jpg": photos["coffee"]})
    del fields["item_id"]
    with pytest.raises(ServerException) as info:
        legacy.call("search", instance, caret_body(fields))
    assert info.value.get_error_code() == "InvalidPicList"
    with pytest.raises(ServerException) as info:
        legacy.call("search", instance, caret_body({"n": "101"} | item_fields("x", {"a": photos["coffee"]})))
    assert info.value.get_error_code() == "OverflowMaxReturnNum"


def test_a_legacy_body_must_be_signed_by_content_md5(server, instance):
    """Tea's ROA signature (signature_algorithm="v2") sends no Content-MD5: the body would go unsigned."""
    config = open_api_models.Config(
        access_key_id=ACCESS_KEY_ID,
        access_key_secret=ACCESS_KEY_SECRET,
        endpoint=server.endpoint,
        protocol="http",
    )
    config.signature_algorithm = "v2"
    params = utils_models.Params(
        action="AddItem", version="2018-01-20", protocol="HTTP", pathname="/item/add", method="POST",
        auth_type="AK", style="ROA", req_body_type="formData", body_type="json",
    )  # fmt: skip
    request = utils_models.OpenApiRequest(query={"instanceName": instance}, body={"item_id": "i"})
    with pytest.raises(ClientException) as info:
        OpenApiClient(config).call_api(params, request, RuntimeOptions())
    assert info.value.code == "IncompleteSignature" and "Content-MD5" in info.value.data["Message"]
