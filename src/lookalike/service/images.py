"""The image catalog of each instance: add, delete and search images keyed by (ProductId, PicName)."""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from dataclasses import asdict

from lookalike.errors import LookalikeError
from lookalike.service.categorize import best_subject, predict_category, probe
from lookalike.service.instances import Instances
from lookalike.service.models import AddImage, Instance, PicInfo, Picture, SearchOptions, SearchResult
from lookalike.service.search import ranked_page
from lookalike.store.base import Compare, Filter, ImageKey, ImageRecord, In, Store, all_of
from lookalike.vision.categories import CATEGORIES, OTHER
from lookalike.vision.pipeline import Analysis, Vision
from lookalike.vision.subjects import Box


class ImageService:
    def __init__(self, instances: Instances, store: Store, vision: Vision):
        self.instances = instances
        self.store = store
        self.vision = vision
        self._opened: set[str] = set()
        self._open_lock = threading.Lock()
        # Writers of one instance take turns, so that the capacity check and the write agree.
        self._write_locks: defaultdict[str, threading.Lock] = defaultdict(threading.Lock)

    def instance(self, name: str) -> Instance:
        """The named instance, its collection ready in the store."""
        instance = self.instances.get(name)
        if instance.name not in self._opened:
            with self._open_lock:
                if instance.name not in self._opened:
                    self.store.ensure_collection(instance.collection, self.vision.dim)
                    self._opened.add(instance.name)
        return instance

    def add(self, request: AddImage) -> PicInfo:
        instance = self.instance(request.instance)
        category = _category(instance, request.category_id)
        seen = self.vision.analyze(
            request.picture.data, crop_subject=request.picture.crop, region=request.picture.region
        )
        if _predicts(instance, request.category_id):
            category = predict_category(seen.category_scores, probe(self.store, instance.collection, seen))
        record = ImageRecord(
            product_id=request.product_id,
            pic_name=request.pic_name,
            category_id=category,
            region=tuple(seen.region),
            vector=seen.vector,
            **asdict(request.attributes),
        )
        with self._write_locks[instance.name]:
            exists = bool(self.store.get(instance.collection, [record.key]))
            if not exists and self.store.count(instance.collection) >= instance.capacity:
                raise LookalikeError(
                    "InstanceOverQuota",
                    f"The number of items exceeds the limit: instance {instance.name!r} "
                    "holds its capacity of "
                    f"{instance.capacity} images",
                )
            self.store.upsert(instance.collection, [record])
        return self._pic_info(instance, seen, category)

    def delete(self, instance_name: str, product_id: str, pic_name: str | None = None) -> list[str]:
        """Delete one image, or every image of the product when no PicName is given."""
        instance = self.instance(instance_name)
        with self._write_locks[instance.name]:
            if pic_name is not None:
                deleted = self.store.delete(instance.collection, [ImageKey(product_id, pic_name)])
            else:
                deleted = self.store.delete_by_filter(
                    instance.collection, Compare("product_id", "=", product_id)
                )
        return [key.pic_name for key in deleted]

    def delete_by_filter(self, instance_name: str, filter: Filter) -> list[str]:
        instance = self.instance(instance_name)
        with self._write_locks[instance.name]:
            deleted = self.store.delete_by_filter(instance.collection, filter)
        return [key.pic_name for key in deleted]

    def search_by_pic(self, instance_name: str, picture: Picture, options: SearchOptions) -> SearchResult:
        started = time.perf_counter()
        instance = self.instance(instance_name)
        category = _category(instance, options.category_id)
        seen = self.vision.analyze(picture.data, crop_subject=picture.crop, region=picture.region)
        predicts = _predicts(instance, options.category_id)
        if predicts or len(seen.subjects) > 1:
            first = seen
            seen, neighbours = best_subject(
                self.store,
                instance.collection,
                first,
                lambda: self.vision.describe_others(picture.data, first),
            )
            if predicts:
                category = predict_category(seen.category_scores, neighbours)
        return self._search(instance, seen, category, options, started, predicted=predicts)

    def search_by_name(
        self, instance_name: str, product_id: str, pic_name: str, options: SearchOptions
    ) -> SearchResult:
        """Search with the stored image of (ProductId, PicName) as the query."""
        started = time.perf_counter()
        instance = self.instance(instance_name)
        found = self.store.get(instance.collection, [ImageKey(product_id, pic_name)], with_vectors=True)
        if not found:
            raise LookalikeError(
                "PicNotExist",
                "The search picture does not exist: "
                f"no image with ProductId {product_id!r} and PicName {pic_name!r}",
            )
        stored = found[0]
        given = _category(instance, options.category_id) if options.category_id is not None else None
        category = given if given is not None else stored.category_id
        region = Box(*stored.region)
        seen = Analysis(vector=stored.vector, region=region, subjects=(region,))
        return self._search(instance, seen, category, options, started)

    def _search(
        self,
        instance: Instance,
        seen: Analysis,
        category: int,
        options: SearchOptions,
        started: float,
        predicted: bool = False,
    ) -> SearchResult:
        # A product search looks within the category; Other is the catch-all and restricts nothing. A
        # predicted category also keeps the images filed under Other: a guess must not hide them.
        if category == OTHER:
            in_category = None
        elif predicted:
            in_category = In("category_id", (category, OTHER))
        else:
            in_category = Compare("category_id", "=", category)
        filter = all_of(options.filter, in_category)
        hits = ranked_page(self.store, instance.collection, seen.vector, options, filter)
        matched = self.store.count(instance.collection, filter)
        elapsed_ms = round((time.perf_counter() - started) * 1000)
        return SearchResult(hits, self._pic_info(instance, seen, category), matched, elapsed_ms)

    def _pic_info(self, instance: Instance, seen: Analysis, category: int) -> PicInfo:
        categories = CATEGORIES if instance.type == "product" else {OTHER: CATEGORIES[OTHER]}
        return PicInfo(
            region=seen.region, category_id=category, categories=categories, multi_region=seen.subjects
        )


def _predicts(instance: Instance, given: int | None) -> bool:
    """Whether the category is the service's to predict: a product instance, and the caller gave none."""
    return instance.type == "product" and given is None


def _category(instance: Instance, given: int | None) -> int:
    """The category an image or query is filed under: the caller's if given, Other for generic instances."""
    if given is not None and given not in CATEGORIES:
        known = ", ".join(str(c) for c in CATEGORIES)
        raise LookalikeError(
            "InvalidCategory", f"The specified category is invalid: {given} is not one of {known}"
        )
    if instance.type == "generic" or given is None:
        return OTHER
    return given
