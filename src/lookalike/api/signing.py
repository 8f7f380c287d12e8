"""Request signatures of the official Alibaba Cloud SDKs, verified server-side.

Three schemes occur on the wire (protocol notes, section 2b):

* ACS3-HMAC-SHA256: `Authorization: ACS3-HMAC-SHA256 Credential=..,SignedHeaders=..,Signature=..`
  (2020-12-14 SDK 4.x default, 2019 Tea client default, AuthorizeFileUpload).
* RPC HMAC-SHA1 "signature v1": `Signature` etc. in the query, signing query + form body parameters
  (SDK 3.x, 4.x with `signature_algorithm='v2'`, aliyunsdkcore CommonRequest).
* ROA HMAC-SHA1: `Authorization: acs <AccessKeyId>:<Signature>` (aliyunsdkcore 2019, Tea ROA v2 mode).

`verify` says who signed a request; `check_clock` says whether it is fresh. They are apart so that
recorded requests stay valid test vectors forever.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Literal
from urllib.parse import parse_qsl, quote

from lookalike.api.errors import ApiError

Scheme = Literal["ACS3-HMAC-SHA256", "RPC-HMAC-SHA1", "ROA-HMAC-SHA1"]

# Without these an ACS3 signature could be replayed against another host, action, time or body.
_ACS3_MUST_SIGN = frozenset({"host", "x-acs-action", "x-acs-date", "x-acs-content-sha256"})
_FORM = "application/x-www-form-urlencoded"


@dataclass(frozen=True)
class SignedRequest:
    """The request exactly as received."""

    method: str
    path: str  # URL path as sent, not decoded further
    raw_query: str  # after '?', as received ('' if none)
    headers: Mapping[str, str]  # names any case; looked up case-insensitively
    body: bytes  # raw body bytes (before any form parsing)


@dataclass(frozen=True)
class Verified:
    access_key_id: str
    scheme: Scheme
    signed_at: datetime | None  # from x-acs-date / Timestamp / Date (UTC), None if the request carried none
    nonce: str | None  # x-acs-signature-nonce / SignatureNonce, None if none


def verify(request: SignedRequest, secret_for: Callable[[str], str | None]) -> Verified:
    """Check the request's signature with the secret of the AccessKeyId it names; raise ApiError."""
    headers = _lower(request.headers)
    auth = headers.get("authorization")
    if auth is not None:
        if auth.startswith("ACS3-"):
            return _verify_acs3(request, headers, auth, secret_for)
        if auth.startswith("acs "):
            return _verify_roa(request, headers, auth, secret_for)
        raise _incomplete(f"unsupported Authorization scheme {auth.partition(' ')[0]!r}")
    params = rpc_params(request)
    if any(key == "Signature" for key, _ in params):
        return _verify_rpc(request, params, secret_for)
    raise _incomplete("no Authorization header and no Signature parameter")


def check_clock(verified: Verified, now: datetime, max_skew: timedelta = timedelta(minutes=15)) -> None:
    """Reject a request signed more than `max_skew` away from `now` (aware), or carrying no time at all."""
    if verified.signed_at is None:
        raise ApiError(
            "InvalidTimeStamp.Expired",
            f"The request carries no timestamp: server time {_iso(now)}, request time none.",
        )
    if abs(now - verified.signed_at) > max_skew:
        raise ApiError(
            "InvalidTimeStamp.Expired",
            f"Specified time stamp or date header is expired: server time {_iso(now)}, "
            f"request time {_iso(verified.signed_at)}.",
        )


def rpc_params(request: SignedRequest) -> list[tuple[str, str]]:
    """The parameters an RPC signature covers: the query, plus the body only when it is a form.

    The HTTP layer must read parameters by the same rule, or it would act on unsigned data.
    """
    params = _parse_qs(request.raw_query, "query")
    if _lower(request.headers).get("content-type", "").lower().startswith(_FORM):
        try:
            form = request.body.decode("utf-8")
        except UnicodeDecodeError:
            raise _not_utf8("body") from None
        params += _parse_qs(form, "body")
    return params


# --- ACS3-HMAC-SHA256 (alibabacloud_tea_openapi/utils.py::get_authorization) -------------------------


def _verify_acs3(
    request: SignedRequest, headers: dict[str, str], auth: str, secret_for: Callable[[str], str | None]
) -> Verified:
    algorithm, _, rest = auth.partition(" ")
    if algorithm != "ACS3-HMAC-SHA256":
        raise ApiError("SignatureDoesNotMatch", f"Unsupported signature algorithm: {algorithm}.")
    fields = dict(item.strip().partition("=")[::2] for item in rest.split(","))
    access_key_id, signed, signature = (
        fields.get(k, "") for k in ("Credential", "SignedHeaders", "Signature")
    )
    if not (access_key_id and signed and signature):
        raise _incomplete("Authorization needs Credential, SignedHeaders and Signature")
    names = signed.split(";")
    # Alibaba's V3 rules: every x-acs-* header is signed (nonce, security token, version ...). The content
    # type decides whether the body is read as parameters (`rpc_params`), so a body needs it signed too.
    must_sign = _ACS3_MUST_SIGN | {h for h in headers if h.startswith("x-acs-")}
    unsigned = (must_sign | ({"content-type"} if request.body else set())) - set(names)
    if unsigned:
        raise _incomplete("these headers must be signed: " + ", ".join(sorted(unsigned)))
    secret = _secret(secret_for, access_key_id)

    claimed = headers.get("x-acs-content-sha256", "").strip()
    body_hash = hashlib.sha256(request.body).hexdigest()
    if claimed.lower() != body_hash:
        raise _body_mismatch("x-acs-content-sha256", f"its SHA-256 is {body_hash}")
    query = _parse_qs(request.raw_query, "query")
    expected, string_to_sign = acs3_signature(secret, request.method, request.path, query, headers, names)
    if not _same(expected, signature.lower()):
        raise _mismatch(string_to_sign)
    return Verified(
        access_key_id,
        "ACS3-HMAC-SHA256",
        _iso_time(headers.get("x-acs-date", ""), "x-acs-date"),
        headers.get("x-acs-signature-nonce"),
    )


def acs3_signature(
    secret: str,
    method: str,
    path: str,
    query: list[tuple[str, str]],
    headers: Mapping[str, str],
    signed_headers: list[str],
) -> tuple[str, str]:
    """The hex ACS3-HMAC-SHA256 signature of a request, and the string it signs. `headers` are lower-case
    and carry `x-acs-content-sha256`; `signed_headers` are the lower-case names the signature covers."""
    canonical_query = "&".join(f"{_pct(k)}={_pct(v)}" for k, v in sorted(query))
    canonical_headers = "".join(f"{name}:{headers.get(name, '').strip()}\n" for name in signed_headers)
    body_hash = headers.get("x-acs-content-sha256", "").strip()
    canonical = "\n".join(
        (method, path, canonical_query, canonical_headers, ";".join(signed_headers), body_hash)
    )
    string_to_sign = f"ACS3-HMAC-SHA256\n{hashlib.sha256(canonical.encode()).hexdigest()}"
    return hmac.new(secret.encode(), string_to_sign.encode(), hashlib.sha256).hexdigest(), string_to_sign


# --- RPC HMAC-SHA1 (get_rpcsignature; aliyunsdkcore rpc_signature_composer) ----------------------------


def _verify_rpc(
    request: SignedRequest, params: list[tuple[str, str]], secret_for: Callable[[str], str | None]
) -> Verified:
    signatures = [v for k, v in params if k == "Signature"]
    # Pairs, not a dict: a smuggled duplicate parameter changes the string to sign instead of hiding.
    signed = [(k, v) for k, v in params if k != "Signature"]
    fields = dict(signed)
    if len(signatures) != 1:
        raise _incomplete("the Signature parameter must occur once")
    if fields.get("SignatureMethod") != "HMAC-SHA1":
        raise ApiError(
            "SignatureDoesNotMatch", f"Unsupported SignatureMethod: {fields.get('SignatureMethod')}."
        )
    access_key_id = fields.get("AccessKeyId", "")
    if not access_key_id:
        raise _incomplete("the AccessKeyId parameter is missing")
    secret = _secret(secret_for, access_key_id)
    if request.path != "/":  # its string to sign names "/" whatever the path: a signature for "/" only
        raise ApiError(
            "SignatureDoesNotMatch",
            "Specified signature is not matched with our calculation: an RPC signature (Signature in the "
            f"query) signs requests to / only, not to {request.path[:200]}",
        )

    canonical = "&".join(f"{_pct(k)}={_pct(v)}" for k, v in sorted(signed))
    string_to_sign = f"{request.method}&{_pct('/')}&{_pct(canonical)}"
    if not _same(_hmac_sha1_b64(f"{secret}&", string_to_sign), signatures[0]):
        raise _mismatch(string_to_sign)
    timestamp = fields.get("Timestamp")
    return Verified(
        access_key_id,
        "RPC-HMAC-SHA1",
        None if timestamp is None else _iso_time(timestamp, "Timestamp"),
        fields.get("SignatureNonce"),
    )


# --- ROA HMAC-SHA1 (aliyunsdkcore roa_signature_composer; get_string_to_sign) ----------------------------


def _verify_roa(
    request: SignedRequest, headers: dict[str, str], auth: str, secret_for: Callable[[str], str | None]
) -> Verified:
    access_key_id, colon, signature = auth[len("acs ") :].rpartition(":")
    if not (access_key_id and colon and signature):
        raise _incomplete("Authorization must be 'acs <AccessKeyId>:<Signature>'")
    method = headers.get("x-acs-signature-method", "HMAC-SHA1")
    if method != "HMAC-SHA1":
        raise ApiError("SignatureDoesNotMatch", f"Unsupported x-acs-signature-method: {method}.")
    secret = _secret(secret_for, access_key_id)

    # The body is signed only through Content-MD5; Tea's ROA mode sends none, leaving the body unsigned.
    md5 = headers.get("content-md5")
    body_md5 = base64.b64encode(hashlib.md5(request.body).digest()).decode()
    if md5 is not None and md5 != body_md5:
        raise _body_mismatch("Content-MD5", f"its base64 MD5 is {body_md5}")
    fixed = (headers.get(h, "") for h in ("accept", "content-md5", "content-type", "date"))
    head = "".join(f"{part}\n" for part in (request.method, *fixed))
    head += "".join(f"{k}:{v}\n" for k, v in sorted(headers.items()) if k.startswith("x-acs-"))
    query = sorted(_parse_qs(request.raw_query, "query"))
    # Values are not encoded here. An empty value is "k=" from aliyunsdkcore but "k" from Tea, and the
    # wire cannot tell them apart, so both spellings are tried.
    spellings = [False, True] if any(v == "" for _, v in query) else [False]
    strings = [head + _roa_resource(request.path, query, bare) for bare in spellings]
    if not any(_same(_hmac_sha1_b64(secret, text), signature) for text in strings):
        raise _mismatch(strings[0])
    date = headers.get("date")
    return Verified(
        access_key_id,
        "ROA-HMAC-SHA1",
        None if date is None else _http_date(date),
        headers.get("x-acs-signature-nonce"),
    )


def _roa_resource(path: str, query: list[tuple[str, str]], bare_empty: bool) -> str:
    if not query:
        return path
    return path + "?" + "&".join(k if bare_empty and v == "" else f"{k}={v}" for k, v in query)


# --- helpers --------------------------------------------------------------------------------------------


def _lower(headers: Mapping[str, str]) -> dict[str, str]:
    # A repeated header is joined with "," as HTTP does, so an injected duplicate changes the signed value.
    out: dict[str, str] = {}
    for name, value in headers.items():
        key = name.lower()
        out[key] = f"{out[key]},{value}" if key in out else value
    return out


def _parse_qs(text: str, where: str) -> list[tuple[str, str]]:
    try:
        return parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        raise _not_utf8(where) from None


def _pct(text: str) -> str:
    # RFC 3986, as every Alibaba signer: only A-Z a-z 0-9 - _ . ~ stay as they are.
    return quote(text, safe="~")


def _hmac_sha1_b64(key: str, text: str) -> str:
    return base64.b64encode(hmac.new(key.encode(), text.encode(), hashlib.sha1).digest()).decode()


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())  # bytes: str arguments must be ASCII


def _secret(secret_for: Callable[[str], str | None], access_key_id: str) -> str:
    secret = secret_for(access_key_id)
    if secret is None:
        raise ApiError(
            "InvalidAccessKeyId.NotFound", f"Specified access key is not found: {access_key_id}", status=404
        )
    return secret


def _iso_time(value: str, name: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is not None:
            return parsed.astimezone(UTC)
    except (ValueError, OverflowError):  # overflow: a time at the calendar's edge, moved out of it by UTC
        pass
    raise ApiError(
        "InvalidTimeStamp.Format",
        f"Specified {name} is not a UTC time like 2026-11-21T12:46:18Z: {value[:100]!r}.",
    )


def _http_date(value: str) -> datetime:
    try:
        parsed = parsedate_to_datetime(value)
        # "-0000" parses to a naive time; RFC 5322 still means UTC by it.
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except (TypeError, ValueError, OverflowError):
        raise ApiError(
            "InvalidTimeStamp.Format",
            f"Specified Date header is not an HTTP date like Sat, 21 Nov 2026 12:46:43 GMT: {value[:100]!r}.",
        ) from None


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _incomplete(detail: str) -> ApiError:
    return ApiError("IncompleteSignature", f"The request signature is incomplete: {detail}.")


def _not_utf8(where: str) -> ApiError:
    return ApiError("SignatureDoesNotMatch", f"The request {where} is not valid UTF-8: cannot sign it.")


def _body_mismatch(header: str, actual: str) -> ApiError:
    return ApiError("SignatureDoesNotMatch", f"Specified {header} does not match the body: {actual}.")


def _mismatch(string_to_sign: str) -> ApiError:
    # POP's wording; old aliyunsdkcore does Message.split(':')[1] and crashes without the colon.
    return ApiError(
        "SignatureDoesNotMatch",
        f"Specified signature is not matched with our calculation. server string to sign is:{string_to_sign}",
    )
