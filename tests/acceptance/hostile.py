"""Hostile requests drawn by hypothesis, sent over real HTTP, and what counts as a documented answer to one.

Shared by the bounded fuzz suite (`test_fuzz.py`) and the long drill (`bench/bench_fuzz.py`). A request is
correctly signed unless its signature is what is under attack, so that the input under attack reaches the
code that reads it. Writes go to the `playground` instance only; the `victim` instance is only read, so that
its images must come out of any amount of this unchanged.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import json
import re
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from email.utils import formatdate
from types import SimpleNamespace
from urllib.parse import quote, urlencode

from alibabacloud_tea_openapi.utils import Utils as OfficialSigner
from hypothesis import strategies as st

from tests.acceptance import hostile_values as v
from tests.acceptance.conftest import create_instance
from tests.acceptance.raw import acs3_headers
from tests.acceptance.sdk import add, make_client, search_name
from tests.acceptance.server import ACCESS_KEY_ID, ACCESS_KEY_SECRET, ServerProcess
from tests.conftest import jpeg, photo_image


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# The codes of the API metadata (PROTOCOL.md appendix A, 2020-12-14 and 2019-03-25) that say what was wrong
# with a request, and UnsupportedOperationType (500: no text tower); not the codes of a failure inside.
API_CODES = _words(
    """
BadRequest Console.BadRequest Console.IncrementStatusError Console.InstanceNotFound Console.NoPermission
Console.TaskAlreadyExist
DeniedRequest EmptyMeta IncorrectOrientation InstanceOverQuota InvalidCategory InvalidCustomContent
InvalidFilterClause InvalidInstance InvalidInstanceName InvalidIntAttr InvalidIntAttr2 InvalidIntAttr3
InvalidIntAttr4 InvalidMetaItem InvalidNumParameter InvalidPicContent InvalidPicList InvalidPicName
InvalidPicUrl InvalidPrimaryPicContent InvalidProductId InvalidRegion InvalidSecondaryPicContent
InvalidStartParameter InvalidStrAttr InvalidStrAttr2 InvalidStrAttr3 InvalidStrAttr4 InvalidText
InvalidTextLength InvalidType NoCaretSeperator NoPermission NoPicList NoSpecifiedItemId NoSpecifiedPic
NoSpecifiedPicContent NoSpecifiedPicName NoSpecifiedProductId OverflowMaxResultNum OverflowMaxReturnNum
PicNotExist UnsupportedPicFormat UnsupportedPicPixels UnsupportedOperationType
"""
)
# The gateway's codes (signatures, routes, limits), as POP answers them (docs/reliability.md).
GATEWAY_CODES = _words(
    """
IncompleteSignature SignatureDoesNotMatch SignatureNonceUsed InvalidAccessKeyId.NotFound
InvalidTimeStamp.Expired InvalidTimeStamp.Format InvalidAction.NotFound InvalidVersion UnsupportedHTTPMethod
RequestTimeout ServiceUnavailable InvalidParameter
"""
)
# OSS's, for the upload leg of the *_advance methods.
OSS_CODES = _words(
    "AccessDenied InvalidArgument EntityTooLarge InvalidPolicyDocument InvalidObjectName FileAlreadyExists"
)
DOCUMENTED_500 = frozenset({"UnsupportedOperationType"})

READS = ["SearchImageByPic", "SearchImageByName", "SearchImageByFilter", "CheckImageExists",
         "CompareSimilarByImage", "SearchImageByText", "Detail", "DumpMetaList", "IncreaseList"]  # fmt: skip
WRITES = ["AddImage", "DeleteImage", "UpdateImage", "IncreaseInstance", "DumpMeta"]
JUNK_ACTIONS = ["", "addimage", "AddImage ", "Search", "AuthorizeFileUpload", "../AddImage"]


@dataclass(frozen=True)
class Target:
    endpoint: str  # host:port
    victim: str  # the instance whose images must come out unchanged: only read
    playground: str  # the instance that takes the writes


@dataclass(frozen=True)
class Hostile:
    family: str
    method: str
    target: str  # path and query, as sent
    headers: dict[str, str]
    body: bytes
    oss: bool = False  # the upload leg answers as OSS does, in XML


# --- signing --------------------------------------------------------------------------------------------


def acs3(family: str, endpoint: str, action: str, fields: dict[str, str]) -> Hostile:
    body = urlencode(fields).encode()
    headers = acs3_headers(endpoint, action, body, ACCESS_KEY_ID, ACCESS_KEY_SECRET)
    return Hostile(family, "POST", "/", headers, body)


def rpc(family: str, endpoint: str, action: str, fields: dict[str, str], in_body: bool) -> Hostile:
    query = {"Action": action, "Version": "2020-12-14", "Format": "JSON", "AccessKeyId": ACCESS_KEY_ID,
             "SignatureMethod": "HMAC-SHA1", "SignatureVersion": "1.0", "SignatureNonce": uuid.uuid4().hex,
             "Timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}  # fmt: skip
    body = {k: val for k, val in fields.items() if k not in query} if in_body else {}
    query |= {} if in_body else fields
    query["Signature"] = OfficialSigner.get_rpcsignature({**query, **body}, "POST", ACCESS_KEY_SECRET)
    headers = {"content-type": "application/x-www-form-urlencoded"} if in_body else {}
    return Hostile(family, "POST", "/?" + urlencode(query), headers, urlencode(body).encode())


def roa(family: str, path: str, query: dict[str, str], body: bytes, content_type: str) -> Hostile:
    """ROA HMAC-SHA1 with Content-MD5, as aliyunsdkcore signs the 2019 API and the caret protocol."""
    headers = {"accept": "application/json", "content-type": content_type, "date": formatdate(usegmt=True),
               "content-md5": base64.b64encode(hashlib.md5(body).digest()).decode(),
               "x-acs-signature-method": "HMAC-SHA1", "x-acs-signature-version": "1.0"}  # fmt: skip
    signed = SimpleNamespace(method="POST", pathname=path, query=query, headers=headers)
    signature = OfficialSigner.get_roasignature(OfficialSigner.get_string_to_sign(signed), ACCESS_KEY_SECRET)
    headers["authorization"] = f"acs {ACCESS_KEY_ID}:{signature}"
    return Hostile(family, "POST", path + ("?" + urlencode(query) if query else ""), headers, body)


@st.composite
def signed(draw: st.DrawFn, family: str, endpoint: str, action: str, fields: dict[str, str]) -> Hostile:
    scheme = draw(st.sampled_from(["acs3", "rpc-query", "rpc-body"]))
    if scheme == "acs3":
        return acs3(family, endpoint, action, fields)
    return rpc(family, endpoint, action, fields, in_body=scheme == "rpc-body")


def instance_for(target: Target, action: str) -> st.SearchStrategy[str]:
    names = [target.playground] if action in WRITES else [target.victim, target.playground]
    return st.sampled_from([*names, "nosuchinstance", ""]) | st.text(max_size=25)


# --- the families ---------------------------------------------------------------------------------------


@st.composite
def with_parameters(draw: st.DrawFn, target: Target) -> Hostile:
    action = draw(st.sampled_from(JUNK_ACTIONS if draw(st.integers(0, 7)) == 0 else READS + WRITES))
    fields = {**draw(v.params), "InstanceName": draw(instance_for(target, action))}
    if action in WRITES:  # a Filter of DeleteImage deletes what matches: only ever in the playground
        fields["InstanceName"] = target.playground
    return draw(signed("parameters", target.endpoint, action, fields))


@st.composite
def with_pictures(draw: st.DrawFn, target: Target) -> Hostile:
    action = draw(st.sampled_from(["SearchImageByPic", "AddImage", "CompareSimilarByImage"]))
    content = draw(v.pictures_base64 if draw(st.integers(0, 2)) else v.not_quite_base64)
    fields = {"InstanceName": target.playground if action == "AddImage" else target.victim,
              "ProductId": "fuzz", "PicName": "fuzz.jpg", "PicContent": content,
              "PrimaryPicContent": content, "SecondaryPicContent": content}  # fmt: skip
    for name in draw(st.lists(st.sampled_from(["Region", "Crop", "Num", "CategoryId"]), max_size=2)):
        fields[name] = draw(v.values)
    return draw(signed("pictures", target.endpoint, action, fields))


@st.composite
def with_filters(draw: st.DrawFn, target: Target) -> Hostile:
    action = draw(st.sampled_from(["SearchImageByFilter", "SearchImageByName", "DeleteImage"]))
    instance = target.playground if action == "DeleteImage" else target.victim
    fields = {"InstanceName": instance, "Filter": draw(v.filters), "ProductId": "fuzz", "PicName": "x"}
    return draw(signed("filters", target.endpoint, action, fields))


@st.composite
def with_caret_bodies(draw: st.DrawFn, target: Target) -> Hostile:
    verb = draw(st.sampled_from(["add", "search", "delete"] * 5 + ["nope", "Add"]))
    instance = target.victim if verb == "search" else target.playground
    body = draw(v.caret_bodies())
    return roa("caret bodies", f"/item/{verb}", {"instanceName": instance}, body, "application/octet-stream")


SIGNED_HEADERS = ["authorization", "x-acs-date", "x-acs-signature-nonce", "x-acs-content-sha256", "host",
                  "x-acs-action", "x-acs-version", "content-type", "date", "content-md5"]  # fmt: skip


@st.composite
def with_bad_signatures(draw: st.DrawFn, target: Target) -> Hostile:
    """A correct read, then one thing changed in it."""
    fields = {"InstanceName": target.victim, "Filter": "int_attr>=0"}
    if draw(st.booleans()):
        base = draw(signed("signatures", target.endpoint, "SearchImageByFilter", fields))
    else:
        query = {"InstanceName": target.victim, "Type": "SearchByName", "ProductId": "p", "PicName": "n"}
        base = roa(
            "signatures",
            "/v2/image/search",
            {},
            urlencode(query).encode(),
            "application/x-www-form-urlencoded",
        )
    change = draw(st.sampled_from(["set", "drop", "repeat", "path", "method", "query", "body"]))
    headers = dict(base.headers)
    name = draw(st.sampled_from(SIGNED_HEADERS))
    if change == "set":
        headers[name] = draw(v.values)
    elif change == "drop":
        headers.pop(name, None)
    elif change == "repeat":
        return replace(base, headers={**headers, name.upper(): draw(v.values)})
    elif change == "path":
        _, mark, query = base.target.partition("?")
        path = draw(st.sampled_from(["/", "/v2/image/delete", "/item/delete", "//", "/x"]))
        return replace(base, target=path + mark + query)
    elif change == "method":
        return replace(base, method=draw(st.sampled_from(["GET", "PUT", "DELETE", "PATCH", "OPTIONS"])))
    elif change == "query":
        return replace(base, target=base.target + ("&" if "?" in base.target else "?") + draw(v.values))
    else:
        cut = draw(st.integers(0, len(base.body)))
        return replace(base, body=base.body[:cut] + draw(st.binary(max_size=5)))
    return replace(base, headers=headers)


@st.composite
def with_uploads(draw: st.DrawFn, target: Target) -> Hostile:
    """The OSS upload leg with a form the key holder wrote: policies, keys and signatures of any kind."""
    policy = draw(st.one_of(v.values, st.builds(json.dumps, st.dictionaries(st.text(max_size=12), v.values))))
    encoded = base64.b64encode(policy.encode()).decode() if draw(st.booleans()) else policy
    signature = base64.b64encode(hashlib.sha1(encoded.encode()).digest()).decode()
    if draw(st.integers(0, 4)):  # mostly the key holder's own signature of their own policy
        digest = hmac.new(ACCESS_KEY_SECRET.encode(), encoded.encode(), "sha1").digest()
        signature = base64.b64encode(digest).decode()
    key = draw(v.values | st.just("lookalike-upload/" + "0" * 32))
    key_id = draw(st.sampled_from([ACCESS_KEY_ID] * 6 + ["LTAIx", ""]))
    fields = {"OSSAccessKeyId": key_id, "policy": encoded, "Signature": signature, "key": key}
    boundary = draw(st.sampled_from(["b0undary", "", "x" * 100]))
    parts = b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
        + value.encode()
        + b"\r\n"
        for name, value in fields.items()
    )
    parts += f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="p"\r\n\r\n'.encode()
    body = parts + draw(v.pictures) + f"\r\n--{boundary}--\r\n".encode()
    body = body[: draw(st.integers(0, len(body)))] if draw(st.integers(0, 4)) == 0 else body
    headers = {"content-type": f"multipart/form-data; boundary={boundary}"}
    return Hostile("uploads", "POST", "/uploads.oss/", headers, body, oss=True)


FAMILIES = {
    "parameters": with_parameters,
    "pictures": with_pictures,
    "filters": with_filters,
    "caret bodies": with_caret_bodies,
    "signatures": with_bad_signatures,
    "uploads": with_uploads,
}


def hostile_requests(target: Target, families: list[str] | None = None) -> st.SearchStrategy[Hostile]:
    return st.one_of([FAMILIES[name](target) for name in families or FAMILIES])


# --- the victim -----------------------------------------------------------------------------------------


def fill_victim(server: ServerProcess) -> tuple[str, dict[str, dict]]:
    """An instance with one image of each victim photo: (name, ProductId -> attributes)."""
    victim, client, stored = create_instance(server.data_dir), make_client(server.endpoint), {}
    for n, name in enumerate(["coffee", "rocket", "chelsea"]):
        product = f"victim-{uuid.uuid4().hex}"  # no draw of hypothesis will name it
        stored[product] = {"int_attr": n + 1, "str_attr": name, "custom_content": f"kept {n}"}
        add(client, victim, product, f"{name}.jpg", jpeg(photo_image(name)), **stored[product])
    return victim, stored


def victim_changes(server: ServerProcess, victim: str, stored: dict[str, dict]) -> list[str]:
    """What differs from what was stored in the victim instance (nothing, if all went well)."""
    client, changes = make_client(server.endpoint), []
    for product, attributes in stored.items():
        hits = search_name(client, victim, product, f"{attributes['str_attr']}.jpg").auctions
        got = {name: getattr(hits[0], name) for name in attributes} if hits else None
        if not hits or hits[0].product_id != product or got != attributes:
            changes.append(f"{product}: stored {attributes}, now {got}")
    return changes


# --- sending and judging --------------------------------------------------------------------------------


def send(endpoint: str, request: Hostile, timeout: float = 120) -> tuple[int, str, bytes]:
    """Status, content type and body of the answer. Header values go out as the bytes of their UTF-8."""
    host, port = endpoint.rsplit(":", 1)
    connection = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        target = quote(request.target, safe="/?&=%+:@!$'()*,;~")
        connection.putrequest(request.method, target, skip_host=True, skip_accept_encoding=True)
        if not any(name.lower() == "host" for name in request.headers):
            connection.putheader("Host", endpoint)
        for name, value in request.headers.items():
            raw = re.sub(r"[\r\n]", " ", value).encode("utf-8").decode("latin-1")
            connection.putheader(name, raw)
        connection.putheader("Content-Length", str(len(request.body)))
        connection.endheaders(request.body)
        response = connection.getresponse()
        return response.status, response.getheader("content-type") or "", response.read()
    finally:
        connection.close()


def verdict(request: Hostile, status: int, content_type: str, body: bytes) -> str | None:
    """None if the answer is a success or a documented error, else what is wrong with it."""
    if request.oss and "xml" in content_type:
        if status == 201:
            return None
        code = re.search(rb"<Code>([^<]*)</Code>", body)
        found = code.group(1).decode() if code else None
        return None if found in OSS_CODES and 400 <= status < 500 else f"{status} OSS {found!r}"
    try:
        answer = json.loads(body)
    except ValueError:
        return f"{status} not JSON: {body[:120]!r}"
    if not isinstance(answer, dict) or "RequestId" not in answer:
        return f"{status} JSON without RequestId: {body[:120]!r}"
    if status == 200:
        return None
    code = answer.get("Code")
    if code not in API_CODES | GATEWAY_CODES | (OSS_CODES if request.oss else frozenset()):
        return f"{status} undocumented {code!r}: {str(answer.get('Message'))[:120]}"
    if status >= 500 and code not in DOCUMENTED_500:
        return f"{status} {code}"
    return None
