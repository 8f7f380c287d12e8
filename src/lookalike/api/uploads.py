"""The upload leg of the SDKs' `*_advance` methods, served here instead of by the open platform and OSS.

1. `AuthorizeFileUpload` (version 2019-12-19, signed like any action) says where to upload: the SDK POSTs
   to `{Bucket}.{Endpoint}` (PROTOCOL.md section 5). Over plain HTTP (way A), Bucket `http://<host>/uploads`
   and Endpoint `oss` make that `http://<host>/uploads.oss/`, for SDK 4.x and 3.x alike. When the request came
   over HTTPS (way B: SDK 4.x always uploads over HTTPS), the host is split at its first dot, so that
   `{Bucket}.{Endpoint}` is the host itself and the upload comes to `https://<host>/`. The policy names the
   ObjectKey and an expiry, signed with the caller's AccessKeySecret, as OSS does.
2. That multipart POST carries no AK signature: the signed policy is its authorisation. The file is kept
   under the ObjectKey in the upload store, once (a policy is good for one upload), for the key that signed.
3. The action's PicContent is `http://{Bucket}.{Endpoint}/{ObjectKey}`; `Params` resolves it from the store
   for that same key only.

A key holder can sign any policy with their own secret, so a policy is read as untrusted input.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from xml.sax.saxutils import escape

from lookalike.access_keys import AccessKey, AccessKeys
from lookalike.api.errors import ApiError
from lookalike.api.responses import Body
from lookalike.service.uploads import KEY_PATTERN, UploadStore
from lookalike.vision.decode import MAX_PIC_BYTES

UPLOAD_VERSION = "2019-12-19"
BUCKET_PATH, ENDPOINT = "/uploads", "oss"
UPLOAD_PATH = f"{BUCKET_PATH}.{ENDPOINT}/"
POLICY_SECONDS = 15 * 60  # the upload follows its authorisation at once


def authorize(host: str, https: bool, key: AccessKey, uploads: UploadStore, now: float) -> Body:
    """AuthorizeFileUpload's answer (the keys the SDKs read), for a request that reached us at `host`."""
    object_key = uploads.new_key()
    # Within the store's time to keep an upload: while the policy lives, its key stays used once it is.
    seconds = min(POLICY_SECONDS, uploads.ttl_seconds)
    expiration = datetime.fromtimestamp(now + seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    policy = {"expiration": expiration, "conditions": [{"key": object_key}]}
    encoded = base64.b64encode(json.dumps(policy, separators=(",", ":")).encode()).decode()
    bucket, endpoint = upload_address(host, https)
    return {
        "Bucket": bucket,
        "Endpoint": endpoint,
        "ObjectKey": object_key,
        "AccessKeyId": key.access_key_id,
        "EncodedPolicy": encoded,
        "Signature": _sign(key.access_key_secret, encoded),
        "UseAccelerate": False,  # a JSON boolean: the SDK does bool() on it
    }


def upload_address(host: str, https: bool) -> tuple[str, str]:
    """(Bucket, Endpoint) such that the SDK's upload to `{Bucket}.{Endpoint}` comes back to `host`."""
    host = host.removeprefix("http://")  # an SDK endpoint given with its scheme sends it in Host
    name, dot, rest = host.partition(".")
    if https and dot and not host.startswith("["):  # way B; an IPv6 literal has no dot to split at
        return name, rest
    return f"http://{host}{BUCKET_PATH}", ENDPOINT  # way A


def receive(
    fields: Mapping[str, str], data: bytes | None, keys: AccessKeys, uploads: UploadStore, now: float
) -> str:
    """Keep an upload whose policy we signed; the XML answer OSS gives (the SDK parses it)."""
    key = keys.get(fields.get("OSSAccessKeyId", ""))
    encoded = fields.get("policy", "")
    if key is None or not hmac.compare_digest(
        _sign(key.access_key_secret, encoded).encode(), fields.get("Signature", "").encode()
    ):
        raise ApiError(
            "AccessDenied",
            "The request signature we calculated does not match the signature you provided",
            403,
        )
    expires_at, object_key = _read_policy(encoded)
    if expires_at < now:
        raise ApiError("AccessDenied", "Invalid according to Policy: Policy expired", 403)
    if fields.get("key") != object_key:
        raise ApiError(
            "AccessDenied", f"Invalid according to Policy: the key must be {object_key[:100]}", 403
        )
    if not KEY_PATTERN.fullmatch(object_key):
        raise ApiError(
            "InvalidObjectName",
            f"The specified object name is not valid: {object_key[:100]!r} is not a key AuthorizeFileUpload "
            "gives",
        )
    if not data:
        raise ApiError("InvalidArgument", "The upload has no file field, or an empty one", 400)
    if len(data) > MAX_PIC_BYTES:
        raise ApiError(
            "EntityTooLarge",
            f"Your proposed upload exceeds the maximum allowed size: {MAX_PIC_BYTES} bytes",
            400,
        )
    if not uploads.put(object_key, key.access_key_id, data):
        raise ApiError(
            "FileAlreadyExists",
            f"The object you specified already exists and can not be overwritten: {object_key} (a policy "
            "is good for one upload: call AuthorizeFileUpload again)",
            409,
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<PostResponse>'
        f"<Bucket>{BUCKET_PATH.strip('/')}</Bucket><Key>{escape(object_key)}</Key>"
        f'<ETag>"{hashlib.md5(data).hexdigest().upper()}"</ETag></PostResponse>'
    )


def _read_policy(encoded: str) -> tuple[float, str]:
    """When a policy expires (unix seconds), and the object key it allows."""
    try:
        policy = json.loads(base64.b64decode(encoded, validate=True))
        expires_at = datetime.fromisoformat(policy["expiration"]).timestamp()
        object_key = policy["conditions"][0]["key"]
        if isinstance(object_key, str):
            return expires_at, object_key
    except (ValueError, TypeError, KeyError, IndexError, OverflowError):  # UnicodeError is a ValueError
        pass
    raise ApiError(
        "InvalidPolicyDocument",
        "The content of the form does not meet the conditions specified in the policy document: a policy "
        'is base64 JSON with an ISO 8601 "expiration" and "conditions": [{"key": ...}]',
    )


def _sign(secret: str, policy: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), policy.encode(), hashlib.sha1).digest()).decode()
