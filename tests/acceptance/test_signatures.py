"""Only correctly signed, fresh requests from a known key get through; refusals say why."""

from __future__ import annotations

import base64
import socket
from datetime import UTC, datetime, timedelta

import pytest
from alibabacloud_tea_openapi.exceptions import ClientException

from tests.acceptance.raw import acs3_headers, form, post
from tests.acceptance.sdk import make_client, search_pic
from tests.acceptance.server import ACCESS_KEY_ID, ACCESS_KEY_SECRET


@pytest.fixture
def search_body(instance, photos) -> bytes:
    return form({"InstanceName": instance, "PicContent": base64.b64encode(photos["coffee"]).decode()})


def test_a_correctly_signed_hand_made_request_passes(server, search_body):
    headers = acs3_headers(server.endpoint, "SearchImageByPic", search_body, ACCESS_KEY_ID, ACCESS_KEY_SECRET)
    status, body = post(server.endpoint, headers, search_body)
    assert status == 200 and body["Success"] is True


@pytest.mark.parametrize("mode", ["acs3", "rpc-v2"])
def test_a_wrong_secret_is_refused_with_a_colon_in_the_message(server, instance, photos, mode):
    client = make_client(server.endpoint, mode, secret="not-the-secret")
    with pytest.raises(ClientException) as info:
        search_pic(client, instance, photos["coffee"])
    assert (info.value.code, info.value.status_code) == ("SignatureDoesNotMatch", 400)
    assert ":" in info.value.data["Message"]  # old aliyunsdkcore splits on it


@pytest.mark.parametrize("mode", ["acs3", "rpc-v2"])
def test_an_unknown_access_key_is_refused(server, instance, photos, mode):
    client = make_client(server.endpoint, mode, key_id="LTAIunknown")
    with pytest.raises(ClientException) as info:
        search_pic(client, instance, photos["coffee"])
    assert (info.value.code, info.value.status_code) == ("InvalidAccessKeyId.NotFound", 404)
    assert ":" in info.value.data["Message"]


def test_a_body_that_does_not_match_its_hash_is_refused(server, search_body):
    headers = acs3_headers(server.endpoint, "SearchImageByPic", search_body, ACCESS_KEY_ID, ACCESS_KEY_SECRET)
    status, body = post(server.endpoint, headers, search_body.replace(b"InstanceName=", b"InstanceName=x"))
    assert (status, body["Code"]) == (400, "SignatureDoesNotMatch")
    assert ":" in body["Message"]


@pytest.mark.parametrize("skew", [timedelta(minutes=-16), timedelta(minutes=16)])
def test_a_timestamp_more_than_15_minutes_off_is_refused(server, search_body, skew):
    when = datetime.now(UTC) + skew
    headers = acs3_headers(
        server.endpoint, "SearchImageByPic", search_body, ACCESS_KEY_ID, ACCESS_KEY_SECRET, when
    )
    status, body = post(server.endpoint, headers, search_body)
    assert (status, body["Code"]) == (400, "InvalidTimeStamp.Expired")
    assert ":" in body["Message"]


def test_an_unsigned_request_is_refused(server, search_body):
    status, body = post(
        server.endpoint,
        {"x-acs-action": "SearchImageByPic", "content-type": "application/x-www-form-urlencoded"},
        search_body,
    )
    assert (status, body["Code"]) == (400, "IncompleteSignature")


def test_an_unknown_action_is_refused(server):
    headers = acs3_headers(server.endpoint, "MakeCoffee", b"", ACCESS_KEY_ID, ACCESS_KEY_SECRET)
    status, body = post(server.endpoint, headers, b"")
    assert (status, body["Code"]) == (404, "InvalidAction.NotFound")


def test_a_body_over_8_mb_is_refused_before_it_is_read_whole(server):
    """The server answers after the headers; the client never has to send the 9 MB."""
    host, port = server.endpoint.split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(
            b"POST / HTTP/1.1\r\nHost: " + server.endpoint.encode() + b"\r\nx-acs-action: AddImage\r\n"
            b"content-type: application/x-www-form-urlencoded\r\nContent-Length: 9437184\r\n\r\n"
            b"InstanceName=x"
        )
        answer = b""
        while b'"}' not in answer and (chunk := sock.recv(65536)):  # headers and body may come apart
            answer += chunk
    answer = answer.decode()
    assert answer.startswith("HTTP/1.1 400")
    assert '"InvalidPicContent"' in answer


def test_an_oversized_picture_through_the_sdk_is_refused_and_the_server_stays_up(client, instance, photos):
    big = "A" * (9 * 1024 * 1024)
    from alibabacloud_imagesearch20201214 import models

    with pytest.raises(ClientException) as info:
        client.search_image_by_pic(models.SearchImageByPicRequest(instance_name=instance, pic_content=big))
    assert info.value.code == "InvalidPicContent"
    assert search_pic(client, instance, photos["coffee"]).success
