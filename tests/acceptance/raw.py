"""Hand-made signed requests, for what the SDK will not send: tampered bodies, stale clocks; and the requests
an SDK really sends, recorded on loopback, to be sent again changed.

This is a client-side ACS3 signer (the peer's algorithm, written from PROTOCOL.md), not the server's code.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import http.client
import json
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qsl, quote, urlencode


def _pct(value: str) -> str:
    return quote(value, safe="~")


def acs3_headers(
    host: str,
    action: str,
    body: bytes,
    key_id: str,
    secret: str,
    when: datetime | None = None,
    nonce: str | None = "",  # "": a fresh one; None: none at all
    version: str = "2020-12-14",
    unsigned: frozenset[str] = frozenset(),  # headers sent but left out of the signature
    query: str = "",
) -> dict:
    headers = {
        "host": host,
        "x-acs-action": action,
        "x-acs-version": version,
        "x-acs-date": (when or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "x-acs-signature-nonce": nonce or uuid.uuid4().hex,
        "x-acs-content-sha256": hashlib.sha256(body).hexdigest(),
        "content-type": "application/x-www-form-urlencoded",
        "accept": "application/json",
    }
    if nonce is None:
        del headers["x-acs-signature-nonce"]
    names = sorted(set(headers) - unsigned)
    pairs = sorted(parse_qsl(query, keep_blank_values=True))
    canonical = "\n".join(
        [
            "POST",
            "/",
            "&".join(f"{_pct(k)}={_pct(v)}" for k, v in pairs),
            "".join(f"{k}:{headers[k]}\n" for k in names),
            ";".join(names),
            headers["x-acs-content-sha256"],
        ]
    )
    to_sign = "ACS3-HMAC-SHA256\n" + hashlib.sha256(canonical.encode()).hexdigest()
    signature = hmac.new(secret.encode(), to_sign.encode(), hashlib.sha256).hexdigest()
    headers["Authorization"] = (
        f"ACS3-HMAC-SHA256 Credential={key_id},SignedHeaders={';'.join(names)},Signature={signature}"
    )
    return headers


def form(params: dict[str, str]) -> bytes:
    return urlencode(sorted(params.items())).encode()


def post(
    endpoint: str, headers: dict, body: bytes, query: str = "", path: str = "/", timeout: float = 30
) -> tuple[int, dict]:
    target = path + (f"?{query}" if query else "")
    status, answer = send(endpoint, "POST", target, headers, body, timeout)
    return status, json.loads(answer)


def send(
    endpoint: str, method: str, target: str, headers: dict, body: bytes, timeout: float = 30
) -> tuple[int, bytes]:
    """One request as given (a Host header among `headers` is sent instead of the endpoint's)."""
    host, port = endpoint.rsplit(":", 1)
    connection = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        connection.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
        if not any(name.lower() == "host" for name in headers):
            connection.putheader("Host", endpoint)
        for name, value in headers.items():
            if name.lower() != "content-length":
                connection.putheader(name, value)
        connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


@dataclass(frozen=True)
class Sent:
    """A request as a client sent it."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes

    def again(self, endpoint: str, path: str | None = None) -> tuple[int, dict]:
        """Send it to `endpoint` unchanged, or to another path with the same query, headers and body."""
        target = (path or self.path) + (f"?{self.query}" if self.query else "")
        status, answer = send(endpoint, self.method, target, self.headers, self.body)
        return status, json.loads(answer)


def record(call: Callable[[str], object]) -> Sent:
    """The request `call(endpoint)` sends, recorded by a server on loopback that answers with an error (so
    the request goes nowhere else)."""
    sent: list[Sent] = []

    class Recorder(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            path, _, query = self.path.partition("?")
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            sent.append(Sent(self.command, path, query, dict(self.headers.items()), body))
            answer = json.dumps({"Code": "Recorded", "Message": "recorded: not served", "RequestId": "r"})
            self.send_response(400)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer.encode())

        do_GET = do_POST

        def log_message(self, *args: object) -> None:
            pass

    with HTTPServer(("127.0.0.1", 0), Recorder) as recorder:
        recorder.timeout = 60  # a client that never sends fails the test below, not hangs it
        thread = threading.Thread(target=recorder.handle_request)
        thread.start()
        with contextlib.suppress(Exception):  # the SDK's error at the recorder's answer
            call(f"127.0.0.1:{recorder.server_address[1]}")
        thread.join()
    (request,) = sent
    return request


def authorize_upload(endpoint: str, key_id: str, secret: str) -> dict:
    """AuthorizeFileUpload's answer: the policy of one upload."""
    headers = acs3_headers(endpoint, "AuthorizeFileUpload", b"", key_id, secret, version="2019-12-19")
    status, answer = post(endpoint, headers, b"")
    assert status == 200, answer
    return answer


def upload_form(policy: dict, picture: bytes) -> tuple[dict, bytes]:
    """The headers and multipart body the SDKs post to the upload address with AuthorizeFileUpload's
    answer: the policy's fields, then the file."""
    boundary = uuid.uuid4().hex
    fields = {
        "OSSAccessKeyId": policy["AccessKeyId"],
        "policy": policy["EncodedPolicy"],
        "Signature": policy["Signature"],
        "key": policy["ObjectKey"],
        "success_action_status": "201",
    }
    body = b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    )
    body += f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="p"\r\n\r\n'.encode()
    body += picture + f"\r\n--{boundary}--\r\n".encode()
    return {"content-type": f"multipart/form-data; boundary={boundary}"}, body
