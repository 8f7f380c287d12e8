"""The SDK's *_advance methods (file streams): AuthorizeFileUpload and the upload are served here too.

The one line a user adds: `client._open_platform_endpoint = "<host:port of Lookalike>"` (README).
"""

from __future__ import annotations

import http.client
import io

import pytest
from alibabacloud_imagesearch20201214 import models
from alibabacloud_tea_openapi.exceptions import ClientException
from darabonba.runtime import RuntimeOptions

from lookalike.config import Settings
from tests.acceptance.raw import authorize_upload, upload_form
from tests.acceptance.sdk import found
from tests.acceptance.server import ACCESS_KEY_ID, ACCESS_KEY_SECRET


@pytest.fixture
def advance_client(client, server):
    client._open_platform_endpoint = server.endpoint  # Config(open_platform_endpoint=...) is ignored
    return client


def test_add_and_search_with_file_streams(advance_client, instance, photos):
    add = models.AddImageAdvanceRequest(
        instance_name=instance,
        product_id="p1",
        pic_name="a.jpg",
        pic_content_object=io.BytesIO(photos["coffee"]),
        int_attr=4,
    )
    assert advance_client.add_image_advance(add, RuntimeOptions()).body.success
    search = models.SearchImageByPicAdvanceRequest(
        instance_name=instance, pic_content_object=io.BytesIO(photos["coffee"])
    )
    body = advance_client.search_image_by_pic_advance(search, RuntimeOptions()).body
    assert found(body) == [("p1", "a.jpg")]
    assert body.auctions[0].score == pytest.approx(1.0, abs=1e-4) and body.auctions[0].int_attr == 4


def test_compare_with_two_file_streams(advance_client, instance, photos):
    request = models.CompareSimilarByImageAdvanceRequest(
        instance_name=instance,
        primary_pic_content_object=io.BytesIO(photos["rocket"]),
        secondary_pic_content_object=io.BytesIO(photos["rocket"]),
    )
    body = advance_client.compare_similar_by_image_advance(request, RuntimeOptions()).body
    assert body.score == pytest.approx(1.0, abs=1e-4)


def test_a_bad_picture_uploaded_gets_the_pictures_error(advance_client, instance):
    request = models.SearchImageByPicAdvanceRequest(
        instance_name=instance, pic_content_object=io.BytesIO(b"not a picture")
    )
    with pytest.raises(ClientException) as info:
        advance_client.search_image_by_pic_advance(request, RuntimeOptions())
    assert info.value.code == "UnsupportedPicFormat"


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/shoe.jpg",  # never fetched from the network
        # the form of an upload's URL, but nothing was uploaded under it
        "http://http://127.0.0.1:1/uploads.oss/lookalike-upload/0123456789abcdef0123456789abcdef",
    ],
)
def test_other_urls_are_refused(client, instance, url):
    with pytest.raises(ClientException) as info:
        client.search_image_by_pic(models.SearchImageByPicRequest(instance_name=instance, pic_content=url))
    assert (info.value.code, info.value.status_code) == ("InvalidPicUrl", 400)


def test_an_upload_without_a_policy_we_signed_is_refused_as_oss_would(server, photos):
    host, port = server.endpoint.split(":")
    boundary = "b0undary"
    parts = {
        "OSSAccessKeyId": "acceptanceKeyId",
        "Signature": "Zm9yZ2Vk",
        "key": "lookalike-upload/" + "0" * 32,
    }
    parts["policy"] = "eyJleHBpcmF0aW9uIjoiMjA5OS0wMS0wMVQwMDowMDowMFoiLCJjb25kaXRpb25zIjpbXX0="
    body = b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in parts.items()
    )
    body += f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="x"\r\n\r\n'.encode()
    body += photos["coffee"] + f"\r\n--{boundary}--\r\n".encode()
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    connection.request(
        "POST", "/uploads.oss/", body, {"content-type": f"multipart/form-data; boundary={boundary}"}
    )
    response = connection.getresponse()
    answer = response.read().decode()
    connection.close()
    assert response.status == 403 and "<Code>AccessDenied</Code>" in answer
    assert not any((server.data_dir / "uploads").glob("0" * 32))


def post_chunked(endpoint: str, headers: dict, body: bytes, chunk: int = 64 * 1024) -> tuple[int, str]:
    """A POST without Content-Length, its body in chunks (Transfer-Encoding: chunked), as Node's SDK sends."""
    host, port = endpoint.split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=60)
    try:
        pieces = (body[at : at + chunk] for at in range(0, len(body), chunk))
        connection.request("POST", "/uploads.oss/", pieces, headers, encode_chunked=True)
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()


def chunked_upload(endpoint: str, picture: bytes) -> tuple[dict, int, str]:
    """A policy, and the answer to an upload under it sent chunked."""
    policy = authorize_upload(endpoint, ACCESS_KEY_ID, ACCESS_KEY_SECRET)
    return policy, *post_chunked(endpoint, *upload_form(policy, picture))


def test_a_chunked_upload_without_content_length_is_accepted(client, server, instance, photos):
    policy, status, answer = chunked_upload(server.endpoint, photos["coffee"])
    assert status == 201, answer
    url = f"http://{policy['Bucket']}.{policy['Endpoint']}/{policy['ObjectKey']}"
    request = models.SearchImageByPicRequest(instance_name=instance, pic_content=url)
    assert client.search_image_by_pic(request).body.success


def test_a_chunked_upload_is_refused_as_soon_as_it_passes_the_limit(server, photos):
    """Counted as it is read: the 64 MB sent are never held, nor kept."""
    policy, status, answer = chunked_upload(server.endpoint, b"\xff" * (8 * Settings.max_body_bytes))
    assert status == 400 and "<Code>EntityTooLarge</Code>" in answer
    assert not any((server.data_dir / "uploads").rglob(policy["ObjectKey"].rsplit("/", 1)[-1]))
    assert chunked_upload(server.endpoint, photos["coffee"])[1] == 201  # and the server still takes uploads
