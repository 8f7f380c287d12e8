"""The domain's requests and answers: typed, validated, free of wire names."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from lookalike.domain.filters import Filter
from lookalike.domain.image import Attributes, Box, Hit

InstanceType = Literal[
    "product", "generic", "fabric", "trademark", "copyright", "furniture", "hardware", "cloth"
]
# What a request does to an instance, for its per-second limits: reads, adds and updates, deletes.
RequestKind = Literal["search", "add", "delete"]
REQUEST_KINDS: tuple[RequestKind, ...] = ("search", "add", "delete")
# The cloud's limits per instance, for a faithful local double; a new instance has none (0) unless asked.
CLOUD_QPS: dict[RequestKind, int] = {"search": 10, "add": 5, "delete": 20}
NO_LIMITS: dict[RequestKind, int] = dict.fromkeys(REQUEST_KINDS, 0)
DEFAULT_CAPACITY = 10_000_000  # images an instance may hold, unless it was made with another capacity


@dataclass(frozen=True)
class TypeRules:
    """What an instance type does differently, as the service documents it."""

    service_type: int  # Detail's ServiceType
    min_side: int = 100  # the shortest side, in pixels, a picture may have
    whole_picture: bool = False  # Crop and Region are ignored: the whole picture is described

    @property
    def has_categories(self) -> bool:
        """Only product instances file images under categories; every other type answers Other."""
        return self.service_type == 0


# The cloud documents no ServiceType for cloth; 8 is the first number it does not use (3 and 7 are both
# trademark).
INSTANCE_TYPES: dict[InstanceType, TypeRules] = {
    "product": TypeRules(0),
    "generic": TypeRules(1),
    "fabric": TypeRules(2, min_side=448, whole_picture=True),
    "trademark": TypeRules(3, min_side=200),
    "copyright": TypeRules(4),
    "furniture": TypeRules(5),
    "hardware": TypeRules(6),
    "cloth": TypeRules(8, whole_picture=True),
}


@dataclass(frozen=True)
class Instance:
    name: str
    type: InstanceType = "product"
    capacity: int = DEFAULT_CAPACITY
    created_ms: int = 0  # Unix epoch milliseconds
    # A file written before the limits were settings has the cloud's, which it was made with.
    search_qps: int = CLOUD_QPS["search"]
    add_qps: int = CLOUD_QPS["add"]
    delete_qps: int = CLOUD_QPS["delete"]
    thumbnails: bool = True  # keep a small copy of each picture added (service/image_blobs.py)

    @property
    def collection(self) -> str:
        return self.name

    @property
    def rules(self) -> TypeRules:
        return INSTANCE_TYPES[self.type]

    def qps(self, kind: RequestKind) -> int:
        return {"search": self.search_qps, "add": self.add_qps, "delete": self.delete_qps}[kind]


@dataclass(frozen=True)
class Picture:
    """Where to look in a picture: an explicit region wins over crop; crop=False means the whole image."""

    data: bytes
    crop: bool = True
    region: Box | None = None


@dataclass(frozen=True)
class AddImage:
    instance: str
    product_id: str
    pic_name: str
    picture: Picture
    category_id: int | None = None
    attributes: Attributes = field(default_factory=Attributes)


@dataclass(frozen=True)
class SearchOptions:
    category_id: int | None = None
    num: int = 10
    start: int = 0
    filter: Filter | None = None
    distinct_product_id: bool = False
    score_threshold: float | None = None


@dataclass(frozen=True)
class PicInfo:
    """What the service saw in a picture: the region it used, the other subjects, the category."""

    region: Box
    category_id: int
    categories: dict[int, str]
    multi_region: tuple[Box, ...] = ()


@dataclass(frozen=True)
class SearchResult:
    hits: list[Hit]  # scores in [0, 1]; 1.0 for the identical image
    pic_info: PicInfo
    docs_matched: int
    search_ms: int
