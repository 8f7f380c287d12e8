"""The one table from the domain's errors to the wire: each kind of error's code and HTTP status, per protocol
family where the families differ.

The 2020-12-14 image actions, the 2019-03-25 ROA API and the first (caret) protocol answer alike; the console
actions (Detail and the bulk jobs), CompareSimilarByImage and Lookalike's own actions name a few errors
otherwise, as the cloud documents them. An import job records each failed line by its kind, and shows it
with this table when it is listed (api/jobs.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from lookalike.api.errors import ApiError
from lookalike.domain.errors import LookalikeError, RateLimited
from lookalike.domain.image import ATTRIBUTES
from lookalike.formats import wire_name

Family = Literal["rpc", "console", "compare", "admin", "roa", "caret"]


@dataclass(frozen=True)
class Code:
    code: str
    status: int = 400


# By kind (`LookalikeError.kind`): what the 2020-12-14 image actions answer, and the families that agree.
CODES: dict[str, Code] = {
    "InstanceNotFound": Code("InvalidInstance"),
    "BadInstanceName": Code("InvalidInstance"),
    "InstanceExists": Code("InvalidParameter"),  # Lookalike's own actions only, as the three below
    "BadValue.type": Code("InvalidParameter"),
    "BadValue.capacity": Code("InvalidParameter"),
    "BadValue.qps": Code("InvalidParameter"),
    "InstanceBusy": Code("InstanceBusy", 409),
    "ImageNotFound": Code("PicNotExist"),
    "OverQuota": Code("InstanceOverQuota"),
    "RateLimited": Code("DeniedRequest", 403),
    "DecodeBusy": Code("DeniedRequest", 403),
    "Denied": Code("NoPermission", 403),
    "BadPicture.content": Code("InvalidPicContent"),
    "BadPicture.format": Code("UnsupportedPicFormat"),
    "BadPicture.pixels": Code("UnsupportedPicPixels"),
    "BadPicture.orientation": Code("IncorrectOrientation"),
    "MissingValue.instance": Code("InvalidInstanceName"),
    "MissingValue.product_id": Code("NoSpecifiedProductId"),
    "MissingValue.pic_name": Code("NoSpecifiedPicName"),
    **{
        f"BadValue.{name}": Code(f"Invalid{wire_name(name)}")
        for name in ("product_id", "pic_name", *ATTRIBUTES)
    },
    "BadValue.category_id": Code("InvalidCategory"),
    "BadValue.region": Code("InvalidRegion"),
    "BadFilter": Code("InvalidFilterClause"),
    "Unsupported": Code("UnsupportedOperationType", 500),
    "JobRunning.dump": Code("Console.TaskAlreadyExist", 409),
    "JobRunning.increment": Code("Console.IncrementStatusError", 409),
    "BadJob": Code("Console.BadRequest"),
    "BadMetaLine": Code("InvalidMetaItem"),
    "DownloadFailed": Code("PictureError"),
    "KeyNotFound": Code("InvalidAccessKeyId.NotFound", 404),
    "Internal": Code("InternalError", 500),
    "Interrupted": Code("Interrupted"),  # an import that `lookalike import` was stopped in (Ctrl-C)
}
# Where a family names an error otherwise.
FAMILIES: dict[Family, dict[str, Code]] = {
    "console": {
        "InstanceNotFound": Code("Console.InstanceNotFound"),
        "Denied": Code("Console.NoPermission", 403),
        "MissingValue.instance": Code("Console.BadRequest"),
        "Internal": Code("Console.InternalError", 500),
    },
    "compare": {"InstanceNotFound": Code("Console.InstanceNotFound")},
    "admin": {
        "MissingValue.instance": Code("MissingInstanceName"),
        "BadInstanceName": Code("InvalidParameter"),
    },
}


class Denied(LookalikeError):
    """The caller's access key may not use the instance (an error the api finds, named per family)."""


def code_of(kind: str, family: Family = "rpc") -> Code:
    """The code and status of an error of this kind. A kind the table does not know is a code recorded by
    an earlier version (an import's failed lines were), and is said as it is."""
    return FAMILIES.get(family, {}).get(kind) or CODES.get(kind) or Code(kind)


def wire_error(error: LookalikeError, family: Family = "rpc") -> ApiError:
    """The domain's error as the family's wire says it."""
    code = code_of(error.kind, family)
    retry_after_ms = error.retry_after_ms if isinstance(error, RateLimited) else None
    return ApiError(code.code, error.message, code.status, retry_after_ms)
