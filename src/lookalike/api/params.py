"""Request parameters as the SDKs send them (all strings), parsed into typed values.

Each parameter has its documented limit and error code; a failure names the parameter and the rule.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from dataclasses import dataclass

from lookalike.config import AccessKey
from lookalike.errors import LookalikeError
from lookalike.service.filters import parse_filter
from lookalike.service.models import Attributes, Picture, SearchOptions
from lookalike.service.uploads import KEY_PATTERN, UploadStore
from lookalike.store.base import Filter
from lookalike.vision.decode import MAX_PIC_BYTES
from lookalike.vision.subjects import Box

INT32 = (-(2**31), 2**31 - 1)
MAX_ID_LENGTH = 256
MAX_CUSTOM_CONTENT = 4096
MAX_STR_ATTR = 128
STR_ATTR_FORBIDDEN = set("\\¥$&%")
MAX_NUM, MAX_START = 100, 499
MAX_TEXT = 512
TRUE, FALSE = {"true", "1"}, {"false", "0"}
# The wire name of each attribute an image carries.
ATTRIBUTE_PARAMS = {
    "CustomContent": "custom_content",
    **{f"IntAttr{s}": f"int_attr{s}" for s in ("", "2", "3", "4")},
    **{f"StrAttr{s}": f"str_attr{s}" for s in ("", "2", "3", "4")},
}
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
    denied_code: str = "NoPermission"  # the code of a refused instance, per action family
    region_id: str = "cn-shanghai"


class Params:
    def __init__(self, values: Mapping[str, str], context: RequestContext = RequestContext()):
        self.values = {k: v for k, v in values.items() if k not in RPC_COMMON}
        self.context = context

    def get(self, name: str) -> str | None:
        """The raw value; None when absent."""
        return self.values.get(name)

    def required(
        self, name: str, missing_code: str, *, max_length: int | None = None, invalid_code: str = ""
    ) -> str:
        value = self.values.get(name, "")
        if value == "":
            raise LookalikeError(missing_code, f"The parameter {name} is not specified")
        if max_length is not None and len(value) > max_length:
            raise LookalikeError(
                invalid_code,
                f"The specified parameter {name} is not valid: longer than {max_length} characters",
            )
        return value

    def optional_text(self, name: str) -> str | None:
        """A string parameter; None when absent or empty (the SDKs send `Key=` for "")."""
        return self.values.get(name) or None

    def integer(
        self, name: str, code: str, *, default: int | None = None, low: int = INT32[0], high: int = INT32[1]
    ) -> int | None:
        raw = self.values.get(name, "")
        if raw == "":
            return default
        try:
            value = int(raw.strip())
        except ValueError:
            raise LookalikeError(
                code, f"The specified parameter {name} is not valid: {raw!r} is not an integer"
            ) from None
        if not low <= value <= high:
            raise LookalikeError(
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
        raise LookalikeError(
            "BadRequest", f"The request has invalid parameters: {name} must be true or false, not {raw!r}"
        )

    # --- the action parameters -------------------------------------------------------------------

    def instance_name(self, missing_code: str = "InvalidInstanceName") -> str:
        """The instance, if the caller's access key may use it (else 403)."""
        name = self.required("InstanceName", missing_code)
        caller = self.context.caller
        if caller is not None and not caller.may_use(name):
            raise LookalikeError(
                self.context.denied_code,
                f"You are not authorized to perform this operation: access key {caller.access_key_id} "
                f"may not use instance {name!r}",
                status=403,
            )
        return name

    def product_id(self) -> str:
        return self.required(
            "ProductId", "NoSpecifiedProductId", max_length=MAX_ID_LENGTH, invalid_code="InvalidProductId"
        )

    def pic_name(self) -> str:
        return self.required(
            "PicName", "NoSpecifiedPicName", max_length=MAX_ID_LENGTH, invalid_code="InvalidPicName"
        )

    def category_id(self) -> int | None:
        return self.integer("CategoryId", "InvalidCategory")

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
            raise LookalikeError(missing_code, f"The parameter {name} is not specified")
        if text.startswith(("http://", "https://")):
            return self.uploaded(text)
        return decode_base64(text, name, invalid_code)

    def uploaded(self, url: str) -> bytes:
        # Only pictures uploaded here, by the caller's own key: a URL is never fetched from the network.
        match, uploads, caller = UPLOAD_URL.match(url), self.context.uploads, self.context.caller
        data = uploads.get(match.group(1), caller.access_key_id) if match and uploads and caller else None
        if data is None:
            kept = f" in the last {round(uploads.ttl_seconds / 60)} minutes" if uploads else ""
            raise LookalikeError(
                "InvalidPicUrl",
                f"The search picture does not exist at the specific url: {url[:200]} (a URL can only name a "
                f"picture uploaded to this server by an SDK's *_advance method{kept}, with the same key)",
            )
        return data

    def region(self) -> Box | None:
        raw = self.values.get("Region", "").strip()
        if raw == "":
            return None
        parts = raw.split(",")
        try:
            x1, x2, y1, y2 = (int(p.strip()) for p in parts)
        except ValueError:
            raise LookalikeError(
                "InvalidRegion", f"The specific region is illegal: {raw!r} is not four integers x1,x2,y1,y2"
            ) from None
        if not (0 <= x1 < x2 and 0 <= y1 < y2):
            raise LookalikeError(
                "InvalidRegion",
                f"The specific region is illegal: {raw!r} needs 0 <= x1 < x2 and 0 <= y1 < y2",
            )
        return Box(x1, x2, y1, y2)

    def filter(self, *, required: bool = False) -> Filter | None:
        tree = parse_filter(self.values.get("Filter"))
        if tree is None and required:
            raise LookalikeError(
                "InvalidFilterClause", "The specified filtering condition is invalid: Filter is empty"
            )
        return tree

    def attributes(self) -> Attributes:
        custom = self.values.get("CustomContent", "")
        if len(custom) > MAX_CUSTOM_CONTENT:
            raise LookalikeError(
                "InvalidCustomContent",
                f"The specified parameter CustomContent is not valid: "
                f"longer than {MAX_CUSTOM_CONTENT} characters",
            )
        ints = {
            f"int_attr{s}": self.integer(f"IntAttr{s}", f"InvalidIntAttr{s}", default=0)
            for s in ("", "2", "3", "4")
        }
        strs = {
            f"str_attr{s}": self.str_attr(f"StrAttr{s}", f"InvalidStrAttr{s}") for s in ("", "2", "3", "4")
        }
        return Attributes(custom_content=custom, **ints, **strs)

    def attribute_changes(self) -> dict[str, object]:
        """The attributes the request gives, checked like AddImage's; the absent ones are not changed."""
        checked = self.attributes()
        return {
            field: getattr(checked, field)
            for param, field in ATTRIBUTE_PARAMS.items()
            # The SDKs send "" for an empty string, and nothing for an unset value.
            if param in self.values and (self.values[param] != "" or not param.startswith("IntAttr"))
        }

    def text(self) -> str:
        text = self.values.get("Text", "")
        if not text.strip():
            raise LookalikeError("InvalidText", "The specified parameter Text is not valid: it is empty")
        if len(text) > MAX_TEXT:
            raise LookalikeError(
                "InvalidTextLength", f"Invalid text clause: Text is longer than {MAX_TEXT} characters"
            )
        return text

    def str_attr(self, name: str, code: str) -> str:
        value = self.values.get(name, "")
        if len(value) > MAX_STR_ATTR:
            raise LookalikeError(
                code, f"The specified parameter {name} is not valid: longer than {MAX_STR_ATTR} characters"
            )
        if bad := sorted(STR_ATTR_FORBIDDEN.intersection(value)):
            raise LookalikeError(
                code, f"The specified parameter {name} is not valid: it may not contain {' '.join(bad)}"
            )
        return value

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
            raise LookalikeError(
                "OverflowMaxReturnNum",
                f"The specified number of results for each request exceeds the maximum of {MAX_NUM}: "
                f"Num={num}",
            )
        start = self.integer("Start", "InvalidStartParameter", default=0, low=0, high=2**63)
        if start > MAX_START:
            raise LookalikeError(
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
            raise LookalikeError(
                "BadRequest",
                "The request has invalid parameters: "
                f"ScoreThreshold must be a number from 0 to 1, not {raw!r}",
            )
        return value


_BASE64 = re.compile(rb"[A-Za-z0-9+/]*={0,2}")


def decode_base64(text: str, name: str = "PicContent", invalid_code: str = "InvalidPicContent") -> bytes:
    """Standard base64 (whitespace ignored, padding optional), refusing anything else."""
    compact = re.sub(r"\s+", "", text).encode("ascii", errors="replace")
    if len(compact) > (MAX_PIC_BYTES // 3 + 1) * 4 + 4:
        raise LookalikeError(
            "InvalidPicContent", f"The specified parameter {name} length greater than 4 * 1024 * 1024"
        )
    if not _BASE64.fullmatch(compact) or len(compact.rstrip(b"=")) % 4 == 1:
        raise LookalikeError(invalid_code, f"The specified parameter {name} is not valid: it is not base64")
    try:
        return base64.b64decode(compact.rstrip(b"=") + b"=" * (-len(compact.rstrip(b"=")) % 4), validate=True)
    except binascii.Error as exc:
        raise LookalikeError(invalid_code, f"The specified parameter {name} is not valid: {exc}") from None
