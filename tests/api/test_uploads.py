"""AuthorizeFileUpload's policy is the only key to the upload leg: signed, for one object key, for one upload,
for a while; and the upload is for the key that signed it."""

from __future__ import annotations

import base64
import hmac

import pytest

from lookalike.access_keys import AccessKey, AccessKeys
from lookalike.api.errors import ApiError
from lookalike.api.uploads import POLICY_SECONDS, UPLOAD_PATH, authorize, receive, upload_address
from lookalike.service.uploads import FileUploadStore
from lookalike.vision.decode import MAX_PIC_BYTES

KEY = AccessKey("LTAIuploader", "uploader-secret")
OTHER = AccessKey("LTAIother", "other-secret")
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
    assert store.get(answer["ObjectKey"], KEY.access_key_id) == b"picture"
    assert store.get(answer["ObjectKey"], OTHER.access_key_id) is None


def test_a_policy_is_good_for_one_upload(store):
    answer = authorize("h:1", False, KEY, store, NOW)
    receive(form_of(answer), b"first", AccessKeys([KEY]), store, NOW)
    with pytest.raises(ApiError) as info:
        receive(form_of(answer), b"second", AccessKeys([KEY]), store, NOW + 1)
    assert (info.value.code, info.value.status) == ("FileAlreadyExists", 409)
    assert store.get(answer["ObjectKey"], KEY.access_key_id) == b"first"


def test_a_policy_lives_no_longer_than_the_store_remembers_its_key(tmp_path):
    short = FileUploadStore(tmp_path, ttl_seconds=60, clock=lambda: NOW)
    answer = authorize("h:1", False, KEY, short, NOW)
    with pytest.raises(ApiError, match="expired"):
        receive(form_of(answer), b"x", AccessKeys([KEY]), short, NOW + 61)


def signed_form(policy: bytes, object_key: str = "lookalike-upload/" + "0" * 32) -> dict[str, str]:
    """A form with a policy the key holder wrote and signed with their own secret."""
    encoded = base64.b64encode(policy).decode()
    signature = base64.b64encode(hmac.new(KEY.access_key_secret.encode(), encoded.encode(), "sha1").digest())
    return {"OSSAccessKeyId": KEY.access_key_id, "policy": encoded, "Signature": signature.decode(),
            "key": object_key}  # fmt: skip


@pytest.mark.parametrize(
    ("policy", "code"),
    [
        (b"not json", "InvalidPolicyDocument"),
        (b"\xff\xfe", "InvalidPolicyDocument"),
        (b"[]", "InvalidPolicyDocument"),
        (b'{"expiration": "2099-01-01T00:00:00Z"}', "InvalidPolicyDocument"),
        (b'{"expiration": "2099-01-01T00:00:00Z", "conditions": []}', "InvalidPolicyDocument"),
        (b'{"expiration": "2099-01-01T00:00:00Z", "conditions": [{"key": 7}]}', "InvalidPolicyDocument"),
        (b'{"expiration": "soon", "conditions": [{"key": "k"}]}', "InvalidPolicyDocument"),
        (b'{"expiration": 7, "conditions": [{"key": "k"}]}', "InvalidPolicyDocument"),
        (b'{"expiration": "2099-01-01T00:00:00Z", "conditions": [{"key": "x/../y"}]}', "InvalidObjectName"),
    ],
)
def test_a_policy_the_key_holder_wrote_is_read_as_untrusted(store, policy, code):
    object_key = "x/../y" if b"x/../y" in policy else "lookalike-upload/" + "0" * 32
    with pytest.raises(ApiError) as info:
        receive(signed_form(policy, object_key), b"x", AccessKeys([KEY]), store, NOW)
    assert (info.value.code, info.value.status) == (code, 400)


def test_a_policy_a_key_holder_wrote_for_a_good_key_still_binds_the_upload_to_them(store):
    policy = b'{"expiration": "2099-01-01T00:00:00Z", "conditions": [{"key": "lookalike-upload/%s"}]}' % (
        b"1" * 32
    )
    receive(signed_form(policy, "lookalike-upload/" + "1" * 32), b"x", AccessKeys([KEY]), store, NOW)
    assert store.get("lookalike-upload/" + "1" * 32, OTHER.access_key_id) is None
    assert store.get("lookalike-upload/" + "1" * 32, KEY.access_key_id) == b"x"


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
    with pytest.raises(ApiError) as info:
        receive(form_of(answer) | change, data, AccessKeys([KEY]), store, NOW)
    assert info.value.code == code
    assert store.get(answer["ObjectKey"], KEY.access_key_id) is None


def test_a_policy_expires(store):
    answer = authorize("h:1", False, KEY, store, NOW)
    with pytest.raises(ApiError, match="expired"):
        receive(form_of(answer), b"x", AccessKeys([KEY]), store, NOW + POLICY_SECONDS + 1)


def test_a_policy_signed_for_another_key_pair_is_refused(store):
    answer = authorize("h:1", False, KEY, store, NOW)
    other = AccessKey(KEY.access_key_id, "another-secret")
    with pytest.raises(ApiError):
        receive(form_of(answer), b"x", AccessKeys([other]), store, NOW)
