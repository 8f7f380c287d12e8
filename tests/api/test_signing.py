"""Signature verification, checked against requests the official SDKs really sent (tests/api/captures).

Every capture was signed with AccessKeyId `testAccessKeyId` and secret `testAccessKeySecret`. A capture must
verify with that secret, fail with any other, and fail after any change to the data its scheme signs.
Fresh requests for the odd cases are signed with the official SDK's own signer (alibabacloud_tea_openapi).
"""

from __future__ import annotations

import base64
import dataclasses
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import parse_qsl, urlencode

import pytest
from alibabacloud_tea_openapi.utils import Utils as OfficialSigner

from lookalike.api.errors import ApiError
from lookalike.api.signing import SignedRequest, Verified, check_clock, verify

KEY, SECRET = "testAccessKeyId", "testAccessKeySecret"
ACS3, RPC, ROA = "ACS3-HMAC-SHA256", "RPC-HMAC-SHA1", "ROA-HMAC-SHA1"

# Which client sent what (protocol notes, section 2). Groups holding two schemes name their files.
SCHEME_OF = {
    "acs3": ACS3,  # alibabacloud-imagesearch20201214 4.4.0, default
    "advance": ACS3,  # *_advance: AuthorizeFileUpload, then the action (the OSS upload is unsigned)
    "async/0017": ACS3,  # *_async over aiohttp ...
    "async/0018": ACS3,
    "async/0019": RPC,  # ... and with signature_algorithm="v2"
    "async/0020": RPC,
    "cfg/0021": ACS3,  # endpoint "127.0.0.1:18080"
    "cfg/0022": ACS3,  # endpoint "http://127.0.0.1:18080": the Host header carries the scheme
    "cfg/0023": ACS3,  # STS token
    "cfg/0024": ROA,  # aliyunsdkcore with client.add_endpoint
    "common": RPC,  # aliyunsdkcore CommonRequest against 2020-12-14
    "core2019": ROA,  # aliyunsdkcore + aliyun-python-sdk-imagesearch (2019-03-25)
    "edge/0042": ACS3,  # awkward characters: a b+c*d~e/中'!()&=%?, empty values, trailing space
    "edge/0043": ACS3,
    "edge/0044": RPC,
    "edge/0045": RPC,
    "rpcv2": RPC,  # 4.4.0 with signature_algorithm="v2"
    "tea2019": ACS3,  # alibabacloud-imagesearch20190325 (Tea), default
    "tea2019_v2": ROA,  # ... with signature_algorithm="v2": no Content-MD5
    "v3": RPC,  # alibabacloud-imagesearch20201214 3.1.3
}


@dataclass(frozen=True)
class Capture:
    name: str  # "group/NNNN"
    request: SignedRequest

    @property
    def scheme(self) -> str:
        return SCHEME_OF.get(self.name) or SCHEME_OF[self.name.split("/")[0]]

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.request.headers.items() if k.lower() == name), None)


def load_captures() -> list[Capture]:
    captures = []
    for path in sorted((Path(__file__).parent / "captures").glob("*/*.json")):
        raw = json.loads(path.read_text())
        if raw["action"] == "OSS-POST":  # the unsigned multipart upload of *_advance
            continue
        body = base64.b64decode(raw["body_b64"]) if "body_b64" in raw else raw["body"].encode()
        request = SignedRequest(raw["method"], raw["path"], raw["rawquery"], dict(raw["headers"]), body)
        captures.append(Capture(f"{path.parent.name}/{path.stem}", request))
    return captures


CAPTURES = load_captures()
BY_NAME = {c.name: c for c in CAPTURES}
each_capture = pytest.mark.parametrize("capture", CAPTURES, ids=lambda c: c.name)
# One request per client flavour: ACS3, RPC, ROA from aliyunsdkcore (Content-MD5, no nonce), ROA from Tea.
each_flavour = pytest.mark.parametrize(
    "capture",
    [BY_NAME[n] for n in ("acs3/0002", "rpcv2/0017", "core2019/0032", "tea2019_v2/0039")],
    ids=lambda c: c.name,
)


def secrets(access_key_id: str) -> str | None:
    return {KEY: SECRET}.get(access_key_id)


def verifies(request: SignedRequest) -> bool:
    try:
        verify(request, secrets)
    except ApiError:
        return False
    return True


def rejection(request: SignedRequest, secret_for=secrets) -> ApiError:
    with pytest.raises(ApiError) as caught:
        verify(request, secret_for)
    assert ":" in caught.value.message  # old aliyunsdkcore splits some messages on ':'
    return caught.value


def with_headers(request: SignedRequest, **changes: str | None) -> SignedRequest:
    """The request with headers (by lower-case name, '_' for '-') replaced, or removed when None."""
    wanted = {k.replace("_", "-"): v for k, v in changes.items()}
    headers = {k: wanted.get(k.lower(), v) for k, v in request.headers.items()}
    headers |= {k: v for k, v in wanted.items() if k not in {h.lower() for h in headers}}
    return dataclasses.replace(request, headers={k: v for k, v in headers.items() if v is not None})


# --- every capture verifies ---------------------------------------------------------------------------


def test_every_group_is_covered():
    groups = {c.name.split("/")[0] for c in CAPTURES}
    assert groups == {k.split("/")[0] for k in SCHEME_OF}
    assert len(CAPTURES) == 66


@each_capture
def test_capture_verifies_with_its_key_scheme_time_and_nonce(capture: Capture):
    verified = verify(capture.request, secrets)

    assert verified.access_key_id == KEY
    assert verified.scheme == capture.scheme
    assert verified.signed_at is not None and verified.signed_at.tzinfo is not None
    query = dict(parse_qsl(capture.request.raw_query))
    if capture.scheme == ACS3:
        assert f"{verified.signed_at:%Y-%m-%dT%H:%M:%SZ}" == capture.header("x-acs-date")
        assert verified.nonce == capture.header("x-acs-signature-nonce")
    elif capture.scheme == RPC:
        assert f"{verified.signed_at:%Y-%m-%dT%H:%M:%SZ}" == query["Timestamp"]
        assert verified.nonce == query["SignatureNonce"]
    else:
        assert f"{verified.signed_at:%a, %d %b %Y %H:%M:%S GMT}" == capture.header("date")
        assert verified.nonce == capture.header("x-acs-signature-nonce")
    # Only aliyunsdkcore's ROA requests carry no nonce at all.
    assert (verified.nonce is None) == (capture.name.startswith("core2019") or capture.name == "cfg/0024")


@each_capture
def test_capture_fails_with_another_secret(capture: Capture):
    error = rejection(capture.request, lambda key: "wrongSecret" if key == KEY else None)
    assert (error.code, error.status) == ("SignatureDoesNotMatch", 400)
    assert "server string to sign is:" in error.message


# --- a change of any signed byte fails ----------------------------------------------------------------


def flip(text: str, i: int) -> str:
    return text[:i] + ("y" if text[i] == "x" else "x") + text[i + 1 :]


def text_changes(label: str, text: str) -> Iterator[tuple[str, str]]:
    for i in range(len(text)):
        yield f"{label}[{i}]", flip(text, i)


def pair_changes(label: str, pairs: list[tuple[str, str]]) -> Iterator[tuple[str, list[tuple[str, str]]]]:
    """Each character of each decoded key and value changed, one at a time."""
    for n, (key, value) in enumerate(pairs):
        for where, changed in text_changes(f"{label} key {key!r}", key):
            yield where, [*pairs[:n], (changed, value), *pairs[n + 1 :]]
        for where, changed in text_changes(f"{label} value of {key!r}", value):
            yield where, [*pairs[:n], (key, changed), *pairs[n + 1 :]]


Change = tuple[str, SignedRequest]


def query_changes(request: SignedRequest) -> Iterator[Change]:
    for where, pairs in pair_changes("query", parse_qsl(request.raw_query, keep_blank_values=True)):
        yield where, dataclasses.replace(request, raw_query=urlencode(pairs))


def form_changes(request: SignedRequest) -> Iterator[Change]:
    pairs = parse_qsl(request.body.decode(), keep_blank_values=True)
    for where, changed in pair_changes("form", pairs):
        yield where, dataclasses.replace(request, body=urlencode(changed).encode())


def byte_changes(request: SignedRequest) -> Iterator[Change]:
    body = request.body
    for i in range(len(body)):
        yield f"body[{i}]", dataclasses.replace(request, body=body[:i] + bytes([body[i] ^ 1]) + body[i + 1 :])


def header_changes(request: SignedRequest, names: Iterable[str]) -> Iterator[Change]:
    names = set(names)
    for name, value in request.headers.items():
        if name.lower() in names:
            for where, changed in text_changes(f"header {name}", value):
                yield where, dataclasses.replace(request, headers={**request.headers, name: changed})


def line_changes(request: SignedRequest) -> Iterator[Change]:
    for where, method in text_changes("method", request.method):
        yield where, dataclasses.replace(request, method=method)
    for where, path in text_changes("path", request.path):
        yield where, dataclasses.replace(request, path=path)


def acs3_signed_headers(capture: Capture) -> set[str]:
    authorization = capture.header("authorization") or ""
    return set(authorization.split("SignedHeaders=")[1].split(",")[0].split(";"))


def roa_signed_headers(capture: Capture) -> set[str]:
    fixed = {"accept", "content-md5", "content-type", "date"}
    return fixed | {k.lower() for k in capture.request.headers if k.lower().startswith("x-acs-")}


def is_form(capture: Capture) -> bool:
    return (capture.header("content-type") or "").startswith("application/x-www-form-urlencoded")


def signed_changes(capture: Capture) -> list[Change]:
    """What each scheme signs, changed one character (or body byte) at a time."""
    request = capture.request
    changes = [*line_changes(request), *query_changes(request)]
    if capture.scheme == ACS3:
        changes += header_changes(request, acs3_signed_headers(capture))
        changes += byte_changes(request)  # through x-acs-content-sha256
    elif capture.scheme == RPC:  # the path too: its string to sign names "/", so it is valid there only
        if request.body:
            changes += form_changes(request)
            # The content type decides whether the body parameters are signed at all.
            changes += header_changes(request, {"content-type"})
    else:
        changes += header_changes(request, roa_signed_headers(capture))
        if capture.header("content-md5") is not None:
            changes += byte_changes(request)
    return changes


def unsigned_changes(capture: Capture) -> list[Change]:
    """What a scheme does not sign, so that the HTTP layer knows not to trust it."""
    request = capture.request
    names = {k.lower() for k in request.headers} - {"authorization"}
    if capture.scheme == ACS3:
        # Only the SignedHeaders list: the SDK leaves out what http.client/aiohttp add after signing.
        return list(header_changes(request, names - acs3_signed_headers(capture)))
    if capture.scheme == RPC:
        # No header at all (not even x-acs-action or Host).
        signed = {"content-type"} if request.body else set()
        return list(header_changes(request, names - signed))
    # ROA: only Accept, Content-MD5, Content-Type, Date and x-acs-*; not Host or User-Agent.
    changes = list(header_changes(request, names - roa_signed_headers(capture)))
    if capture.header("content-md5") is None:
        changes += byte_changes(request)  # Tea's ROA mode: nothing protects the body
    return changes


@each_capture
def test_reencoding_alone_still_verifies(capture: Capture):
    """The change tests rebuild query and form with urlencode; that alone must not break the signature."""
    request = capture.request
    pairs = parse_qsl(request.raw_query, keep_blank_values=True)
    assert verifies(dataclasses.replace(request, raw_query=urlencode(pairs)))
    if capture.scheme == RPC and is_form(capture):
        form = parse_qsl(request.body.decode(), keep_blank_values=True)
        assert verifies(dataclasses.replace(request, body=urlencode(form).encode()))


@each_capture
def test_a_change_of_any_signed_byte_fails(capture: Capture):
    changes = signed_changes(capture)
    assert len(changes) > 100
    assert [where for where, request in changes if verifies(request)] == []


@each_capture
def test_a_change_outside_the_signed_data_still_verifies(capture: Capture):
    changes = unsigned_changes(capture)
    assert changes
    assert [where for where, request in changes if not verifies(request)] == []


def test_acs3_header_values_are_signed_without_surrounding_blanks():
    request = BY_NAME["acs3/0002"].request
    assert verifies(with_headers(request, x_acs_action=" AddImage  "))


def test_a_repeated_signed_header_fails():
    request = BY_NAME["acs3/0002"].request
    assert not verifies(
        dataclasses.replace(request, headers={**request.headers, "X-Acs-Action": "DeleteImage"})
    )


@pytest.mark.parametrize("path", ["/v2/image/delete", "/item/delete", "//", "/?"])
@pytest.mark.parametrize("name", ["rpcv2/0017", "v3/0003", "common/0025"])
def test_an_rpc_signature_is_valid_for_requests_to_slash_only(name: str, path: str):
    """RPC signs "/" in place of the path: sent to another route it must not act there."""
    error = rejection(dataclasses.replace(BY_NAME[name].request, path=path))
    assert error.code == "SignatureDoesNotMatch"
    assert "to / only" in error.message


def test_acs3_with_a_body_must_sign_its_content_type():
    """The content type decides whether the body is read as parameters: unsigned, it could be changed."""
    request = BY_NAME["acs3/0002"].request
    assert request.body and verifies(request)
    error = rejection(acs3_signed(request, unsigned={"content-type"}))
    assert error.code == "IncompleteSignature"
    assert "content-type" in error.message
    assert verifies(acs3_signed(BY_NAME["acs3/0012"].request, unsigned={"content-type"}))  # no body


def test_rpc_a_smuggled_duplicate_parameter_fails():
    """Signed as pairs, not a dict: a second InstanceName in the query cannot hide behind the body's."""
    request = BY_NAME["rpcv2/0017"].request
    assert b"InstanceName=myinst" in request.body
    assert not verifies(dataclasses.replace(request, raw_query=request.raw_query + "&InstanceName=other"))


# --- errors ---------------------------------------------------------------------------------------------


@each_flavour
def test_unknown_access_key_is_404(capture: Capture):
    asked = []
    error = rejection(capture.request, lambda key: asked.append(key))
    assert (error.code, error.status) == ("InvalidAccessKeyId.NotFound", 404)
    assert asked == [KEY]


def without_signature(capture: Capture) -> SignedRequest:
    if capture.scheme == RPC:
        pairs = parse_qsl(capture.request.raw_query, keep_blank_values=True)
        query = urlencode([(k, v) for k, v in pairs if k != "Signature"])
        return dataclasses.replace(capture.request, raw_query=query)
    return with_headers(capture.request, authorization=None)


@each_flavour
def test_missing_signature_is_incomplete(capture: Capture):
    error = rejection(without_signature(capture))
    assert (error.code, error.status) == ("IncompleteSignature", 400)


@pytest.mark.parametrize(
    ("name", "authorization", "code"),
    [
        ("acs3/0002", "ACS3-HMAC-SHA256 Credential=testAccessKeyId", "IncompleteSignature"),
        ("acs3/0002", "ACS3-HMAC-SHA256", "IncompleteSignature"),
        (
            "acs3/0002",
            "ACS3-HMAC-SM3 Credential=testAccessKeyId,SignedHeaders=host,Signature=00",
            "SignatureDoesNotMatch",
        ),
        ("acs3/0002", "Bearer abc", "IncompleteSignature"),
        ("core2019/0032", "acs testAccessKeyId", "IncompleteSignature"),
        ("core2019/0032", "acs :c2ln", "IncompleteSignature"),
    ],
)
def test_malformed_authorization(name: str, authorization: str, code: str):
    error = rejection(with_headers(BY_NAME[name].request, authorization=authorization))
    assert (error.code, error.status) == (code, 400)


def test_unsupported_signature_methods():
    rpc = BY_NAME["rpcv2/0027"].request
    query = rpc.raw_query.replace("SignatureMethod=HMAC-SHA1", "SignatureMethod=HMAC-SHA256")
    assert "HMAC-SHA256" in rejection(dataclasses.replace(rpc, raw_query=query)).message
    roa = with_headers(BY_NAME["core2019/0032"].request, x_acs_signature_method="HMAC-SHA256")
    assert "HMAC-SHA256" in rejection(roa).message


@pytest.mark.parametrize(
    "name",
    ["host", "x-acs-action", "x-acs-date", "x-acs-content-sha256", "x-acs-signature-nonce", "x-acs-version"],
)
def test_acs3_must_sign_host_action_date_body_hash_and_every_x_acs_header(name: str):
    request = BY_NAME["acs3/0012"].request
    authorization = request.headers["Authorization"].replace(f"{name};", "").replace(f";{name},", ",")
    error = rejection(with_headers(request, authorization=authorization))
    assert error.code == "IncompleteSignature"
    assert name in error.message


@pytest.mark.parametrize(
    ("name", "header"), [("acs3/0002", "x-acs-content-sha256"), ("core2019/0032", "Content-MD5")]
)
def test_a_body_that_does_not_match_its_hash_says_which_hash(name: str, header: str):
    request = BY_NAME[name].request
    error = rejection(dataclasses.replace(request, body=request.body + b"&X=1"))
    assert error.code == "SignatureDoesNotMatch"
    assert header in error.message


def test_an_emptied_body_does_not_escape_content_md5():
    request = BY_NAME["core2019/0032"].request
    assert "Content-MD5" in rejection(dataclasses.replace(request, body=b"")).message


def test_invalid_utf8_is_rejected():
    request = BY_NAME["rpcv2/0017"].request
    assert (
        rejection(dataclasses.replace(request, body=request.body + b"&X=%FF")).code == "SignatureDoesNotMatch"
    )


# --- fresh requests signed by the official SDK's signer -------------------------------------------------


def acs3_signed(
    request: SignedRequest = BY_NAME["acs3/0012"].request,
    unsigned: frozenset[str] = frozenset(),
    **headers: str,
) -> SignedRequest:
    """A request (Detail, acs3/0012, by default) re-signed by alibabacloud_tea_openapi with the given headers
    changed; the headers named `unsigned` are sent but left out of the signature."""
    sent = {"authorization", "accept-encoding", "content-length"}
    kept = {k.lower(): v for k, v in request.headers.items() if k.lower() not in sent}
    kept |= {k.replace("_", "-"): v for k, v in headers.items()}
    signed = {k: v for k, v in kept.items() if k not in unsigned}
    query = dict(parse_qsl(request.raw_query))
    official = SimpleNamespace(method="POST", pathname="/", query=query, headers=signed)
    authorization = OfficialSigner.get_authorization(
        official, ACS3, signed["x-acs-content-sha256"], KEY, SECRET
    )
    return SignedRequest(
        "POST", "/", urlencode(query), {**kept, "Authorization": authorization}, request.body
    )


def rpc_signed(**params: str | None) -> SignedRequest:
    """Detail (rpcv2/0027) re-signed by alibabacloud_tea_openapi with the given parameters changed."""
    query = dict(parse_qsl(BY_NAME["rpcv2/0027"].request.raw_query))
    del query["Signature"]
    query = {k: v for k, v in (query | params).items() if v is not None}
    query["Signature"] = OfficialSigner.get_rpcsignature(query, "POST", SECRET)
    return SignedRequest("POST", "/", urlencode(query), {"host": "127.0.0.1:18080"}, b"")


def roa_string_to_sign(request: SignedRequest) -> str:
    headers = {k: v for k, v in request.headers.items() if k != "authorization"}
    query = dict(parse_qsl(request.raw_query, keep_blank_values=True))
    official = SimpleNamespace(method=request.method, pathname=request.path, query=query, headers=headers)
    return OfficialSigner.get_string_to_sign(official)


def roa_signed(query: dict[str, str] | None = None, **headers: str | None) -> SignedRequest:
    """DeleteImage (tea2019_v2/0041) re-signed by alibabacloud_tea_openapi, headers or query changed."""
    request = BY_NAME["tea2019_v2/0041"].request
    unsigned = {"authorization", "accept-encoding", "content-length"}
    signed = {k.lower(): v for k, v in request.headers.items() if k.lower() not in unsigned}
    signed |= {k.replace("_", "-"): v for k, v in headers.items()}
    signed = {k: v for k, v in signed.items() if v is not None}
    fresh = dataclasses.replace(request, raw_query=urlencode(query or {}), headers=signed)
    signature = OfficialSigner.get_roasignature(roa_string_to_sign(fresh), SECRET)
    return with_headers(fresh, authorization=f"acs {KEY}:{signature}")


def test_requests_signed_by_the_official_signer_verify():
    assert verify(acs3_signed(), secrets).scheme == ACS3
    assert verify(rpc_signed(), secrets).scheme == RPC
    assert verify(roa_signed(), secrets).scheme == ROA


@pytest.mark.parametrize(
    "request_",
    [acs3_signed(x_acs_date="yesterday"), rpc_signed(Timestamp="2026-11-21"), roa_signed(date="Saturday")],
    ids=[ACS3, RPC, ROA],
)
def test_an_unreadable_time_is_invalid_timestamp_format(request_: SignedRequest):
    error = rejection(request_)
    assert (error.code, error.status) == ("InvalidTimeStamp.Format", 400)


@pytest.mark.parametrize(
    "request_",
    [
        acs3_signed(x_acs_date="0001-01-01T00:00:00+01:00"),
        acs3_signed(x_acs_date="9999-12-31T23:59:59-01:00"),
        rpc_signed(Timestamp="0001-01-01T00:00:00+01:00"),
        rpc_signed(Timestamp="9999-12-31T23:59:59-01:00"),
        roa_signed(date="Fri, 31 Dec 9999 23:59:59 -0100"),  # two-digit years are 19xx or 20xx there
    ],
    ids=["acs3-first", "acs3-last", "rpc-first", "rpc-last", "roa-last"],
)
def test_a_time_at_the_edge_of_the_calendar_is_invalid_timestamp_format(request_: SignedRequest):
    """In UTC these times fall outside the years 1 to 9999."""
    error = rejection(request_)
    assert (error.code, error.status) == ("InvalidTimeStamp.Format", 400)


def test_a_request_without_time_verifies_but_fails_the_clock():
    """verify() says who signed; whether a request without Timestamp or Date is fresh is for check_clock."""
    for request in rpc_signed(Timestamp=None), roa_signed(date=None):
        verified = verify(request, secrets)
        assert verified.signed_at is None
        with pytest.raises(ApiError) as caught:
            check_clock(verified, datetime(2026, 11, 21, tzinfo=UTC))
        assert caught.value.code == "InvalidTimeStamp.Expired"


def test_roa_empty_query_values_verify_in_both_sdk_spellings():
    """An empty value is signed as "k" by Tea but as "k=" by aliyunsdkcore; both send "k=" on the wire."""
    tea = roa_signed({"RegionId": "cn-shanghai", "Empty": ""})
    assert tea.raw_query == "RegionId=cn-shanghai&Empty="
    assert verifies(tea)

    tea_string = roa_string_to_sign(tea)
    assert tea_string.endswith("\n/v2/image/delete?Empty&RegionId=cn-shanghai")
    core_signature = OfficialSigner.get_roasignature(tea_string.replace("?Empty&", "?Empty=&"), SECRET)
    assert verifies(with_headers(tea, authorization=f"acs {KEY}:{core_signature}"))


# --- check_clock ----------------------------------------------------------------------------------------


@each_flavour
@pytest.mark.parametrize("direction", [1, -1], ids=["server-ahead", "server-behind"])
def test_clock_allows_15_minutes_either_way(capture: Capture, direction: int):
    verified: Verified = verify(capture.request, secrets)
    assert verified.signed_at is not None

    check_clock(verified, verified.signed_at + direction * timedelta(minutes=15))
    late = verified.signed_at + direction * timedelta(minutes=15, seconds=1)
    with pytest.raises(ApiError) as caught:
        check_clock(verified, late)

    error = caught.value
    assert (error.code, error.status) == ("InvalidTimeStamp.Expired", 400)
    assert f"server time {late:%Y-%m-%dT%H:%M:%SZ}" in error.message
    assert f"request time {verified.signed_at:%Y-%m-%dT%H:%M:%SZ}" in error.message


def test_clock_skew_is_configurable():
    verified = verify(BY_NAME["acs3/0002"].request, secrets)
    assert verified.signed_at is not None
    now = verified.signed_at + timedelta(minutes=2)
    check_clock(verified, now)
    with pytest.raises(ApiError):
        check_clock(verified, now, max_skew=timedelta(minutes=1))
