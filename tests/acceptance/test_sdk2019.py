"""The 2019-03-25 API (ROA: /v2/image/*) through both of its official SDKs.

- aliyun-python-sdk-imagesearch with aliyun-python-sdk-core: ROA HMAC-SHA1 (`Authorization: acs ..`), no
  signature nonce; success bodies come back as raw bytes, errors as ServerException.
- alibabacloud-imagesearch20190325 (Tea): ACS3-HMAC-SHA256 by default, ROA HMAC-SHA1 with
  signature_algorithm="v2" (whose body is not covered by the signature: see the README).
"""

from __future__ import annotations

import base64
import json

import pytest
from alibabacloud_imagesearch20190325 import models as tea_models
from alibabacloud_imagesearch20190325.client import Client as TeaClient
from alibabacloud_tea_openapi import models as open_api_models
from alibabacloud_tea_openapi.exceptions import ClientException
from aliyunsdkcore.acs_exception.exceptions import ServerException
from aliyunsdkcore.client import AcsClient
from aliyunsdkimagesearch.request.v20190325 import AddImageRequest, DeleteImageRequest, SearchImageRequest

from tests.acceptance.server import ACCESS_KEY_ID, ACCESS_KEY_SECRET


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


class CoreClient:
    """aliyunsdkcore's AcsClient with the 2019 request classes, the way their users call them."""

    def __init__(self, endpoint: str, key_id: str = ACCESS_KEY_ID, secret: str = ACCESS_KEY_SECRET):
        self.endpoint = endpoint
        self.acs = AcsClient(key_id, secret, "cn-shanghai")

    def call(self, request, **fields) -> dict:
        request.set_endpoint(self.endpoint)
        for name, value in fields.items():
            getattr(request, f"set_{name}")(value)
        return json.loads(self.acs.do_action_with_exception(request))  # raw bytes on success

    def add(self, instance, product_id, pic_name, picture, **fields):
        return self.call(
            AddImageRequest.AddImageRequest(),
            InstanceName=instance,
            ProductId=product_id,
            PicName=pic_name,
            PicContent=b64(picture),
            **fields,
        )

    def search(self, instance, **fields):
        return self.call(SearchImageRequest.SearchImageRequest(), InstanceName=instance, **fields)

    def delete(self, instance, **fields):
        return self.call(DeleteImageRequest.DeleteImageRequest(), InstanceName=instance, **fields)


def tea_client(endpoint: str, mode: str) -> TeaClient:
    config = open_api_models.Config(
        access_key_id=ACCESS_KEY_ID,
        access_key_secret=ACCESS_KEY_SECRET,
        endpoint=endpoint,
        protocol="http",
        region_id="cn-shanghai",
    )
    if mode == "roa-v2":
        config.signature_algorithm = "v2"
    return TeaClient(config)


@pytest.fixture
def core(server) -> CoreClient:
    return CoreClient(server.endpoint)


def test_core_sdk_adds_searches_and_deletes(core, instance, photos):
    added = core.add(
        instance, "p1", "a.jpg", photos["coffee"], CategoryId=3, IntAttr=7, StrAttr="中文", CustomContent="c"
    )
    assert (added["Success"], added["Code"], added["Message"]) == (True, 0, "success")
    assert added["PicInfo"]["CategoryId"] == 3 and added["PicInfo"]["Region"].count(",") == 3
    core.add(instance, "p2", "b.jpg", photos["rocket"], CategoryId=3)

    by_pic = core.search(instance, Type="SearchByPic", PicContent=b64(photos["coffee"]), CategoryId=3, Num=5)
    first = by_pic["Auctions"][0]
    assert (first["ProductId"], first["PicName"], first["IntAttr"], first["StrAttr"]) == (
        "p1",
        "a.jpg",
        7,
        "中文",
    )
    assert first["Score"] == pytest.approx(1.0, abs=1e-4)
    assert set(first) == {
        "ProductId",
        "PicName",
        "CategoryId",
        "CustomContent",
        "IntAttr",
        "StrAttr",
        "Score",
        "SortExprValues",
    }
    by_name = core.search(instance, Type="SearchByName", ProductId="p2", PicName="b.jpg", Filter="int_attr=0")
    assert [(a["ProductId"], a["PicName"]) for a in by_name["Auctions"]] == [("p2", "b.jpg")]

    deleted = core.delete(instance, ProductId="p1", PicName="a.jpg")
    assert (deleted["Success"], deleted["Code"]) == (True, 0) and "Data" not in deleted
    rest = core.search(instance, PicContent=b64(photos["coffee"]))  # Type defaults to SearchByPic
    assert [a["ProductId"] for a in rest["Auctions"]] == ["p2"]


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"Type": "SearchByText", "PicContent": "x"}, "InvalidType"),
        ({"Type": "SearchByPic"}, "NoSpecifiedPicContent"),
        ({"Type": "SearchByName", "ProductId": "nope", "PicName": "n"}, "PicNotExist"),
        ({"Type": "SearchByPic", "PicContent": b64(b"GIF89a junk")}, "InvalidPicContent"),
    ],
)
def test_core_sdk_errors(core, instance, fields, code):
    with pytest.raises(ServerException) as info:
        core.search(instance, **fields)
    assert (info.value.get_error_code(), info.value.get_http_status()) == (code, 400)


def test_core_sdk_sees_a_signature_error_it_can_parse(server, instance, photos):
    with pytest.raises(ServerException) as info:
        CoreClient(server.endpoint, secret="wrong").add(instance, "p", "n", photos["coffee"])
    # aliyunsdkcore splits this message on ':', and without one an IndexError escapes to the user.
    assert (info.value.get_error_code(), info.value.get_http_status()) == ("SignatureDoesNotMatch", 400)


@pytest.mark.parametrize("mode", ["acs3", "roa-v2"])
def test_tea_sdk_adds_searches_and_deletes(server, instance, photos, mode):
    client = tea_client(server.endpoint, mode)
    add = tea_models.AddImageRequest(
        instance_name=instance,
        product_id="p1",
        pic_name="a.jpg",
        pic_content=b64(photos["chelsea"]),
        int_attr=3,
    )
    assert client.add_image(add).body.pic_info.category_id == 88888888
    search = tea_models.SearchImageRequest(
        instance_name=instance, type="SearchByPic", pic_content=b64(photos["chelsea"])
    )
    body = client.search_image(search).body
    assert [(a.product_id, a.pic_name, a.int_attr) for a in body.auctions] == [("p1", "a.jpg", 3)]
    assert body.head.docs_found == 1 and body.pic_info.all_categories
    by_name = client.search_image(
        tea_models.SearchImageRequest(
            instance_name=instance, type="SearchByName", product_id="p1", pic_name="a.jpg"
        )
    )
    assert by_name.body.auctions[0].score == pytest.approx(1.0, abs=1e-4)
    deleted = client.delete_image(tea_models.DeleteImageRequest(instance_name=instance, product_id="p1"))
    assert deleted.body.success is True
    with pytest.raises(ClientException) as info:
        client.search_image(tea_models.SearchImageRequest(instance_name=instance, type="Sideways"))
    assert info.value.code == "InvalidType"
