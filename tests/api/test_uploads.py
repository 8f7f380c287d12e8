"""AuthorizeFileUpload's policy is the only key to the upload leg: signed, for one object key, for a while."""

from __future__ import annotations

import pytest

from lookalike.api.uploads import POLICY_SECONDS, UPLOAD_PATH, authorize, receive, upload_address
from lookalike.config import AccessKey, AccessKeys
from lookalike.errors import LookalikeError
from lookalike.service.uploads import FileUploadStore
from lookalike.vision.decode import MAX_PIC_BYTES

KEY = AccessKey("LTAIuploader", "uploader-secret")
NOW = 1_800_000_000.0


@pytest.fixture
def store(tmp_path) -> FileUploadStore:
    return FileUploadStore(tmp_path, clock=lambda: NOW)


def form_of(answer: dict) -> dict[str, str]:
    """The fields the SDK echoes back in its multipart upload."""
    return {
        "OSSAccessKeyId": answer["AccessKeyId"],
        "policy": answer["EncodedPolicy"],
        "Signature": answer["Signature"],
        "key": answer["ObjectKey"],
        "success_action_status": "201",
    }


def test_the_answer_leads_the_sdk_back_here_over_plain_http(store):
    answer = authorize("127.0.0.1:8080", False, KEY, store, NOW)
    assert f"{answer['Bucket']}.{answer['Endpoint']}/" == f"http://127.0.0.1:8080/{UPLOAD_PATH.lstrip('/')}"
    assert answer["UseAccelerate"] is False and answer["AccessKeyId"] == KEY.access_key_id
    assert upload_address("http://127.0.0.1:8080", False)[0].startswith("http://127.0.0.1:8080/")


@pytest.mark.parametrize("host", ["127.0.0.1:8443", "imagesearch.example.com", "search.example.com:443"])
def test_over_https_the_host_is_split_so_that_bucket_dot_endpoint_is_the_host(host):
    bucket, endpoint = upload_address(host, True)
    assert f"{bucket}.{endpoint}" == host


@pytest.mark.parametrize("host", ["localhost:8443", "[::1]:8443"])
def test_a_host_without_a_dot_to_split_at_gets_the_plain_http_address(host):
    assert upload_address(host, True) == (f"http://{host}/uploads", "oss")


def test_a_signed_upload_is_kept_under_its_key(store):
    answer = authorize("h:1", False, KEY, store, NOW)
    xml = receive(form_of(answer), b"picture", AccessKeys([KEY]), store, NOW + 60)
    assert f"<Key>{answer['ObjectKey']}</Key>" in xml
    assert store.get(answer["ObjectKey"]) == b"picture"


@pytest.mark.parametrize(
    ("change", "data", "code"),
    [
        ({"Signature": "Zm9yZ2Vk"}, b"x", "AccessDenied"),
        ({"OSSAccessKeyId": "LTAIunknown"}, b"x", "AccessDenied"),
        ({"key": "lookalike-upload/" + "0" * 32}, b"x", "AccessDenied"),
        ({}, b"", "InvalidArgument"),
        ({}, None, "InvalidArgument"),
        ({}, b"x" * (MAX_PIC_BYTES + 1), "EntityTooLarge"),
    ],
)
def test_uploads_outside_the_policy_are_refused(store, change, data, code):
    answer = authorize("h:1", False, KEY, store, NOW)
    with pytest.raises(LookalikeError) as info:
        receive(form_of(answer) | change, data, AccessKeys([KEY]), store, NOW)
    assert info.value.code == code
    assert store.get(answer["ObjectKey"]) is None


def test_a_policy_expires(store):
    answer = authorize("h:1", False, KEY, store, NOW)
    with pytest.raises(LookalikeError, match="expired"):
        receive(form_of(answer), b"x", AccessKeys([KEY]), store, NOW + POLICY_SECONDS + 1)


def test_a_policy_signed_for_another_key_pair_is_refused(store):
    answer = authorize("h:1", False, KEY, store, NOW)
    other = AccessKey(KEY.access_key_id, "another-secret")
    with pytest.raises(LookalikeError):
        receive(form_of(answer), b"x", AccessKeys([other]), store, NOW)
