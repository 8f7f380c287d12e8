"""A small signed client of a running Lookalike server, for the command line (the SDKs are not a dependency).

It sends an action as the official SDK 4.x sends the console actions: POST /, every parameter in the query,
an empty body, signed with ACS3-HMAC-SHA256.
"""

from __future__ import annotations

import hashlib
import json
import urllib.error
import urllib.request
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode, urlsplit

from lookalike.api.errors import ApiError
from lookalike.api.signing import acs3_signature

EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


class Client:
    def __init__(self, url: str, access_key_id: str, access_key_secret: str, timeout: float = 60):
        self.url = url.rstrip("/")
        self.access_key_id = access_key_id
        self.access_key_secret = access_key_secret
        self.timeout = timeout

    def call(self, action: str, **params: object) -> dict[str, Any]:
        """The action's JSON answer; an ApiError with the server's code if it refused."""
        query = sorted((k, str(v)) for k, v in params.items() if v is not None)
        headers = {
            "host": urlsplit(self.url).netloc,
            "x-acs-action": action,
            "x-acs-version": "2020-12-14",
            "x-acs-date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "x-acs-signature-nonce": uuid.uuid4().hex,
            "x-acs-content-sha256": EMPTY_SHA256,
            "accept": "application/json",
        }
        names = sorted(headers)
        signature, _ = acs3_signature(self.access_key_secret, "POST", "/", query, headers, names)
        headers["Authorization"] = (
            f"ACS3-HMAC-SHA256 Credential={self.access_key_id},"
            f"SignedHeaders={';'.join(names)},Signature={signature}"
        )
        request = urllib.request.Request(f"{self.url}/?{urlencode(query)}", b"", headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                answer: dict[str, Any] = json.load(response)
                return answer
        except urllib.error.HTTPError as error:
            body = json.loads(error.read() or b"{}")
            raise ApiError(body.get("Code", "Unknown"), body.get("Message", str(error)), error.code) from None

    def get_text(self, url: str) -> str:
        """A link the server handed out (MetaUrl, ErrorUrl)."""
        with urllib.request.urlopen(url, timeout=self.timeout) as response:
            return bytes(response.read()).decode()
