"""What a hostile client tries with requests it saw or signed: each is refused, and nothing stored changes.

The requests are those the official SDKs really send (recorded on loopback, then sent here changed), or
requests signed by hand where an attacker would sign them so.
"""

from __future__ import annotations

import base64
import hmac
from collections.abc import Callable
from urllib.parse import urlencode

import pytest
from alibabacloud_imagesearch20190325 import models as tea_models
from alibabacloud_imagesearch20201214 import models
from alibabacloud_tea_openapi.exceptions import ClientException
from aliyunsdkimagesearch.request.v20190325 import SearchImageRequest

from lookalike.access_keys import create_access_key
from tests.acceptance.raw import (
    Sent,
    acs3_headers,
    authorize_upload,
    form,
    post,
    record,
    send,
    upload_form,
)
from tests.acceptance.sdk import add, add_streamed, make_client, search_name, search_pic
from tests.acceptance.server import ACCESS_KEY_ID, ACCESS_KEY_SECRET
from tests.acceptance.test_sdk2019 import CoreClient, tea_client

# --- 1. A signature is good only for the route and action it was made for ----------------------------


def sdk4(mode: str) -> Callable[[str, str], object]:
    def call(endpoint: str, instance: str) -> object:
        return search_name(make_client(endpoint, mode), instance, "p1", "a.jpg")

    return call


def core2019(endpoint: str, instance: str) -> object:
    fields = {"InstanceName": instance, "Type": "SearchByName", "ProductId": "p1", "PicName": "a.jpg"}
    return CoreClient(endpoint).call(SearchImageRequest.SearchImageRequest(), **fields)


def tea2019(endpoint: str, instance: str) -> object:
    request = tea_models.SearchImageRequest(
        instance_name=instance, type="SearchByName", product_id="p1", pic_name="a.jpg"
    )
    return tea_client(endpoint, "roa-v2").search_image(request)


READS = {  # a search by name of p1/a.jpg, from each family of clients
    "sdk4-acs3": sdk4("acs3"),
    "sdk4-rpc": sdk4("rpc-v2"),  # the RPC signature of SDK 3.x and aliyunsdkcore's CommonRequest
    "core2019-roa": core2019,
    "tea2019-roa": tea2019,
}
DELETES = ["/v2/image/delete", "/item/delete", "/"]


@pytest.mark.parametrize("family", READS)
def test_a_signed_read_replayed_on_a_delete_route_is_refused(server, instance, photos, family):
    client = make_client(server.endpoint)
    add(client, instance, "p1", "a.jpg", photos["coffee"])
    read = record(lambda endpoint: READS[family](endpoint, instance))

    for path in (p for p in DELETES if p != read.path):
        status, answer = read.again(server.endpoint, path)
        assert status >= 400 and answer["Code"] != "InternalError", (path, answer)
        assert answer["Code"] in {"SignatureDoesNotMatch", "InvalidAction.NotFound"}, (path, answer)
    assert search_name(client, instance, "p1", "a.jpg").auctions  # nothing was deleted

    status, answer = read.again(server.endpoint)  # where it was made for, it is served
    assert status == 200, answer


def test_an_rpc_read_replayed_with_another_action_is_refused(server, instance, photos):
    """The RPC signature covers Action, so the action cannot be swapped in the query either."""
    client = make_client(server.endpoint)
    add(client, instance, "p1", "a.jpg", photos["coffee"])
    read = record(lambda endpoint: READS["sdk4-rpc"](endpoint, instance))
    assert "Action=SearchImageByName" in read.query
    swapped = Sent(read.method, read.path, read.query.replace("=SearchImageByName", "=DeleteImage"),
                   read.headers, read.body)  # fmt: skip
    status, answer = swapped.again(server.endpoint)
    assert (status, answer["Code"]) == (400, "SignatureDoesNotMatch")
    assert search_name(client, instance, "p1", "a.jpg").auctions


# --- 2. What decides how the body is read is signed ---------------------------------------------------


def test_acs3_with_an_unsigned_content_type_cannot_have_its_body_read_as_other_parameters(
    server, instance, photos
):
    """Signed as plain text, the body is no parameters; changed in transit to a form, it would be."""
    client = make_client(server.endpoint)
    for product in ("p1", "p2"):
        add(client, instance, product, "a.jpg", photos["coffee"])
    query = urlencode({"InstanceName": instance, "ProductId": "p1", "PicName": "a.jpg"})
    body = form({"InstanceName": instance, "ProductId": "p2"})
    headers = acs3_headers(server.endpoint, "DeleteImage", body, ACCESS_KEY_ID, ACCESS_KEY_SECRET,
                           unsigned=frozenset({"content-type"}), query=query)  # fmt: skip
    for content_type in ("text/plain", "application/x-www-form-urlencoded"):
        status, answer = post(server.endpoint, {**headers, "content-type": content_type}, body, query)
        assert (status, answer["Code"]) == (400, "IncompleteSignature"), answer
        assert "content-type" in answer["Message"]
    for product in ("p1", "p2"):
        assert search_name(client, instance, product, "a.jpg").auctions


def test_the_sdk_signs_its_content_type_and_is_served(server, instance, photos):
    sent = record(lambda endpoint: add(make_client(endpoint), instance, "p1", "a.jpg", photos["coffee"]))
    authorization = sent.headers["Authorization"]
    assert "content-type" in authorization.split("SignedHeaders=")[1].split(",")[0].split(";")
    status, answer = sent.again(server.endpoint)
    assert status == 200 and answer["Success"], answer


# --- 3. An upload: one per policy, for the key that was authorised -----------------------------------


def upload(endpoint: str, policy: dict, picture: bytes) -> tuple[int, str]:
    """The multipart POST an SDK makes to OSS with AuthorizeFileUpload's answer."""
    headers, body = upload_form(policy, picture)
    status, answer = send(endpoint, "POST", "/uploads.oss/", headers, body)
    return status, answer.decode()


def upload_url(endpoint: str, policy: dict) -> str:
    return f"http://{endpoint}/uploads.oss/{policy['ObjectKey']}"


def test_a_policy_is_good_for_one_upload(server, instance, photos):
    policy = authorize_upload(server.endpoint, ACCESS_KEY_ID, ACCESS_KEY_SECRET)
    assert upload(server.endpoint, policy, photos["coffee"])[0] == 201
    status, answer = upload(server.endpoint, policy, photos["rocket"])
    assert status == 409 and "<Code>FileAlreadyExists</Code>" in answer, answer

    client = make_client(server.endpoint)
    add(client, instance, "coffee", "a.jpg", photos["coffee"])
    add(client, instance, "rocket", "a.jpg", photos["rocket"])
    found = search_pic_url(client, instance, upload_url(server.endpoint, policy))
    assert found.auctions[0].product_id == "coffee"  # the first upload, not replaced


def search_pic_url(client, instance: str, url: str):
    request = models.SearchImageByPicRequest(instance_name=instance, pic_content=url)
    return client.search_image_by_pic(request).body


def test_an_upload_is_usable_only_by_the_key_that_was_authorised(server, instance, photos):
    """A key limited to an instance cannot take another key's upload into it."""
    limited = create_access_key(server.data_dir, [instance])
    policy = authorize_upload(server.endpoint, ACCESS_KEY_ID, ACCESS_KEY_SECRET)
    assert upload(server.endpoint, policy, photos["coffee"])[0] == 201
    url = upload_url(server.endpoint, policy)

    intruder = make_client(server.endpoint, key_id=limited.access_key_id, secret=limited.access_key_secret)
    with pytest.raises(ClientException) as info:
        search_pic_url(intruder, instance, url)
    assert (info.value.code, info.value.status_code) == ("InvalidPicUrl", 400)
    assert search_pic_url(make_client(server.endpoint), instance, url).success  # its own key may


def test_the_sdks_file_streams_still_work_for_a_limited_key(server, instance, photos):
    limited = create_access_key(server.data_dir, [instance])
    client = make_client(server.endpoint, key_id=limited.access_key_id, secret=limited.access_key_secret)
    client._open_platform_endpoint = server.endpoint
    assert add_streamed(client, instance, "p1", "a.jpg", photos["coffee"]).success
    assert search_pic(client, instance, photos["coffee"]).auctions[0].product_id == "p1"


@pytest.mark.parametrize(
    "policy",
    [b"not json", b"[]", b'{"expiration": "2099-01-01T00:00:00Z"}', b'{"expiration": "x", "conditions": []}'],
)
def test_a_policy_the_key_holder_wrote_badly_gets_an_oss_error(server, policy):
    encoded = base64.b64encode(policy).decode()
    signature = base64.b64encode(hmac.new(ACCESS_KEY_SECRET.encode(), encoded.encode(), "sha1").digest())
    forged = {"AccessKeyId": ACCESS_KEY_ID, "EncodedPolicy": encoded, "Signature": signature.decode(),
              "ObjectKey": "x/../y"}  # fmt: skip
    status, answer = upload(server.endpoint, forged, b"picture")
    assert status == 400 and "<Code>InvalidPolicyDocument</Code>" in answer, answer  # OSS's XML form
