"""Request parameters as the SDKs send them (all strings), parsed into typed values.

Each parameter has its documented limit and error code; a failure names the parameter and the rule.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lookalike import formats
from lookalike.access_keys import AccessKey
from lookalike.api.codes import Denied
from lookalike.api.errors import ApiError
from lookalike.config import Settings
from lookalike.domain.errors import MissingValue
from lookalike.domain.filters import Filter
from lookalike.domain.image import (
    ATTRIBUTES,
    INT32_MAX,
    INT32_MIN,
    Attributes,
    Box,
)
from lookalike.service.filters import parse_filter
from lookalike.service.models import Picture, SearchOptions
from lookalike.service.uploads import KEY_PATTERN, UploadStore
from lookalike.vision.decode import MAX_PIC_BYTES

INT32 = (INT32_MIN, INT32_MAX)
MAX_NUM, MAX_START = 100, 499
MAX_TEXT = 512
TRUE, FALSE = {"true", "1"}, {"false", "0"}
# A picture uploaded by an SDK's *_advance method: PicContent is a URL ending in its object key.
UPLOAD_URL = re.compile(rf"^https?://.*/({KEY_PATTERN.pattern})$")
# Signature housekeeping of the RPC form: never an action's own parameter.
RPC_COMMON = {
    "Action", "Version", "Format", "Timestamp", "SignatureNonce", "SignatureMethod", "SignatureVersion",
    "SignatureType", "AccessKeyId", "Signature", "SecurityToken", "RegionId",
}  # fmt: skip


@dataclass(frozen=True)
class RequestContext:
    """What a request brings besides its parameters: who signed it, and where uploads are kept."""

    caller: AccessKey | None = None  # None: not restricted (tests of the parameters alone)
    uploads: UploadStore | None = None
    region_id: str = Settings.region_id
    origin: str = ""  # scheme://host of this server as the caller reached it (or the configured public URL)


class Params:
    def __init__(self, values: Mapping[str, str], context: RequestContext = RequestContext()):
        self.values = {k: v for k, v in values.items() if k not in RPC_COMMON}
        self.context = context

    def get(self, name: str) -> str | None:
        """The raw value; None when absent."""
        return self.values.get(name)

    def required(self, name: str, missing_code: str) -> str:
        value = self.values.get(name, "")
        if value == "":
            raise ApiError(missing_code, f"The parameter {name} is not specified")
        return value

    def optional_text(self, name: str) -> str | None:
        """A string parameter; None when absent or empty (the SDKs send `Key=` for "")."""
        return self.values.get(name) or None

    def integer(
        self, name: str, code: str, *, default: int, low: int = INT32[0], high: int = INT32[1]
    ) -> int:
        value = self.optional_integer(name, code, low=low, high=high)
        return default if value is None else value

    def optional_integer(
        self, name: str, code: str, *, low: int = INT32[0], high: int = INT32[1]
    ) -> int | None:
        raw = self.values.get(name, "")
        if raw == "":
            return None
        try:
            value = int(raw.strip())
        except ValueError:
            raise ApiError(
                code, f"The specified parameter {name} is not valid: {raw!r} is not an integer"
            ) from None
        if not low <= value <= high:
            raise ApiError(
                code, f"The specified parameter {name} is not valid: {value} is outside {low}..{high}"
            )
        return value

    def boolean(self, name: str, default: bool) -> bool:
        raw = self.values.get(name, "").strip().lower()
        if raw == "":
            return default
        if raw in TRUE:
            return True
        if raw in FALSE:
            return False
        raise ApiError(
            "BadRequest", f"The request has invalid parameters: {name} must be true or false, not {raw!r}"
        )

    # --- the action parameters -------------------------------------------------------------------

    def instance_name(self) -> str:
        """The instance, if the caller's access key may use it (else Denied)."""
        name = self.values.get("InstanceName", "")
        if not name:
            raise MissingValue("instance", "The parameter InstanceName is not specified")
        caller = self.context.caller
        if caller is not None and not caller.may_use(name):
            raise Denied(
                f"You are not authorized to perform this operation: access key {caller.access_key_id} "
                f"may not use instance {name!r}"
            )
        return name

    def product_id(self) -> str:
        return formats.key_part(self.values, "product_id")

    def pic_name(self) -> str:
        return formats.key_part(self.values, "pic_name")

    def category_id(self) -> int | None:
        return formats.category_id(self.values)

    def picture(self, name: str = "PicContent") -> Picture:
        return Picture(data=self.picture_bytes(name), crop=self.boolean("Crop", True), region=self.region())

    def picture_bytes(
        self,
        name: str = "PicContent",
        missing_code: str = "NoSpecifiedPicContent",
        invalid_code: str = "InvalidPicContent",
    ) -> bytes:
        """Base64 picture bytes, or those uploaded under the URL an SDK's *_advance method sends."""
        text = self.values.get(name, "")
        if text == "":
            raise ApiError(missing_code, f"The parameter {name} is not specified")
        if text.startswith(("http://", "https://")):
            return self.uploaded(text)
        return decode_base64(text, name, invalid_code)

    def uploaded(self, url: str) -> bytes:
        # Only pictures uploaded here, by the caller's own key: a URL is never fetched from the network.
        match, uploads, caller = UPLOAD_URL.match(url), self.context.uploads, self.context.caller
        data = uploads.get(match.group(1), caller.access_key_id) if match and uploads and caller else None
        if data is None:
            kept = f" in the last {round(uploads.ttl_seconds / 60)} minutes" if uploads else ""
            raise ApiError(
                "InvalidPicUrl",
                f"The search picture does not exist at the specific url: {url[:200]} (a URL can only name a "
                f"picture uploaded to this server by an SDK's *_advance method{kept}, with the same key)",
            )
        return data

    def region(self) -> Box | None:
        return formats.region(self.values)

    def filter(self) -> Filter | None:
        return parse_filter(self.values.get("Filter"))

    def required_filter(self) -> Filter:
        tree = self.filter()
        if tree is None:
            raise ApiError(
                "InvalidFilterClause", "The specified filtering condition is invalid: Filter is empty"
            )
        return tree

    def attributes(self) -> Attributes:
        return formats.attributes(self.values)

    def attribute_changes(self) -> dict[str, Any]:
        """The attributes the request gives, checked like AddImage's; the absent ones are not changed."""
        given = {name: self.values.get(formats.wire_name(name)) for name in ATTRIBUTES}
        return {
            name: formats.attribute(self.values, name)
            for name, raw in given.items()
            # The SDKs send "" for an empty string, and nothing for an unset value.
            if raw is not None and (raw != "" or ATTRIBUTES[name] is str)
        }

    def text(self) -> str:
        text = self.values.get("Text", "")
        if not text.strip():
            raise ApiError("InvalidText", "The specified parameter Text is not valid: it is empty")
        if len(text) > MAX_TEXT:
            raise ApiError(
                "InvalidTextLength", f"Invalid text clause: Text is longer than {MAX_TEXT} characters"
            )
        return text

    def search_options(self) -> SearchOptions:
        num, start = self.page()
        return SearchOptions(
            category_id=self.category_id(),
            num=num,
            start=start,
            filter=self.filter(),
            distinct_product_id=self.boolean("DistinctProductId", False),
            score_threshold=self.score_threshold(),
        )

    def page(self) -> tuple[int, int]:
        """How many results (1 to 100, default 10) from which rank (0 to 499, default 0)."""
        num = self.integer("Num", "InvalidNumParameter", default=10, low=1, high=2**63)
        if num > MAX_NUM:
            raise ApiError(
                "OverflowMaxReturnNum",
                f"The specified number of results for each request exceeds the maximum of {MAX_NUM}: "
                f"Num={num}",
            )
        start = self.integer("Start", "InvalidStartParameter", default=0, low=0, high=2**63)
        if start > MAX_START:
            raise ApiError(
                "OverflowMaxResultNum",
                f"The specified number of total results exceeds the maximum of 500: "
                f"Start={start} (0 to {MAX_START})",
            )
        return num, start

    def score_threshold(self) -> float | None:
        raw = self.values.get("ScoreThreshold", "").strip()
        if raw == "":
            return None
        try:
            value = float(raw)
        except ValueError:
            value = float("nan")
        if not 0.0 <= value <= 1.0:
            raise ApiError(
                "BadRequest",
                "The request has invalid parameters: "
                f"ScoreThreshold must be a number from 0 to 1, not {raw!r}",
            )
        return value


_BASE64 = re.compile(rb"[A-Za-z0-9+/]*={0,2}")


def decode_base64(text: str, name: str = "PicContent", invalid_code: str = "InvalidPicContent") -> bytes:
    """Standard base64 (whitespace ignored, padding optional), refusing anything else."""
    compact = "".join(text.split()).encode("ascii", errors="replace")  # a tenth of a regex's CPU
    if len(compact) > (MAX_PIC_BYTES // 3 + 1) * 4 + 4:
        raise ApiError(
            "InvalidPicContent", f"The specified parameter {name} length greater than 4 * 1024 * 1024"
        )
    if not _BASE64.fullmatch(compact) or len(compact.rstrip(b"=")) % 4 == 1:
        raise ApiError(invalid_code, f"The specified parameter {name} is not valid: it is not base64")
    try:
        return base64.b64decode(compact.rstrip(b"=") + b"=" * (-len(compact.rstrip(b"=")) % 4), validate=True)
    except binascii.Error as exc:
        raise ApiError(invalid_code, f"The specified parameter {name} is not valid: {exc}") from None
