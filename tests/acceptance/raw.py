"""Hand-made signed requests, for what the SDK will not send: tampered bodies, stale clocks.

This is a client-side ACS3 signer (the peer's algorithm, written from PROTOCOL.md), not the server's code.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import uuid
from datetime import UTC, datetime
from urllib.parse import quote, urlencode


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
) -> dict:
    headers = {
        "host": host,
        "x-acs-action": action,
        "x-acs-version": "2020-12-14",
        "x-acs-date": (when or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "x-acs-signature-nonce": nonce or uuid.uuid4().hex,
        "x-acs-content-sha256": hashlib.sha256(body).hexdigest(),
        "content-type": "application/x-www-form-urlencoded",
        "accept": "application/json",
    }
    if nonce is None:
        del headers["x-acs-signature-nonce"]
    signed = ";".join(sorted(headers))
    canonical = "\n".join(
        [
            "POST",
            "/",
            "",
            "".join(f"{k}:{headers[k]}\n" for k in sorted(headers)),
            signed,
            headers["x-acs-content-sha256"],
        ]
    )
    to_sign = "ACS3-HMAC-SHA256\n" + hashlib.sha256(canonical.encode()).hexdigest()
    signature = hmac.new(secret.encode(), to_sign.encode(), hashlib.sha256).hexdigest()
    headers["Authorization"] = (
        f"ACS3-HMAC-SHA256 Credential={key_id},SignedHeaders={signed},Signature={signature}"
    )
    return headers


def form(params: dict[str, str]) -> bytes:
    return urlencode(sorted(params.items())).encode()


def post(endpoint: str, headers: dict, body: bytes, query: str = "", timeout: float = 30) -> tuple[int, dict]:
    host, port = endpoint.split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        connection.request("POST", "/" + (f"?{query}" if query else ""), body=body, headers=headers)
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()
