"""The image catalog of each instance: add, update, delete and search images keyed by (ProductId, PicName)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import replace
from typing import Any, NamedTuple

import numpy as np

from lookalike.datadir import NamedLocks
from lookalike.domain.errors import (
    BadPicture,
    BadValue,
    ImageNotFound,
    LookalikeError,
    OverQuota,
    RateLimited,
)
from lookalike.domain.filters import Compare, Filter, In, all_of
from lookalike.domain.image import ATTRIBUTES, Box, Hit, Image, ImageKey
from lookalike.metrics import stage
from lookalike.service.categorize import Probe, best_subject, nearest_accepted, predict_category, probe
from lookalike.service.image_blobs import THUMBNAIL, ImageBlobs
from lookalike.service.instances import Instances
from lookalike.service.limits import RateLimiter
from lookalike.service.models import (
    AddImage,
    Instance,
    PicInfo,
    Picture,
    RequestKind,
    SearchOptions,
    SearchResult,
)
from lookalike.service.rerank import (
    COLOURS,
    DETAILS,
    RERANK,
    SOFTENED,
    SOFTENED_PICTURE,
    Likeness,
    Softened,
    closest_first,
    worth,
)
from lookalike.service.search import (
    MAX_RESULTS,
    Found,
    fused_page,
    fused_ranking,
    page_of,
    result_of,
    to_score,
    with_runners_up,
)
from lookalike.service.verify import CANDIDATES, COPY, FEATURES, is_found, placed, verified_first
from lookalike.store.base import Store
from lookalike.vision import colour, detail, softened
from lookalike.vision.categories import CATEGORIES, OTHER
from lookalike.vision.decode import MAX_SIDE, MIN_SIDE, picture_size
from lookalike.vision.local import Features, Match
from lookalike.vision.pipeline import Sight, View, Vision, square


class Prepared(NamedTuple):
    record: Image  # to store
    info: PicInfo  # to answer
    blobs: dict[str, bytes]  # to keep beside it, by kind


class ImageService:
    def __init__(
        self,
        instances: Instances,
        store: Store,
        vision: Vision,
        limiter: RateLimiter,
        locks: NamedLocks,
        blobs: ImageBlobs,
    ):
        self.instances = instances
        self.store = store
        self.vision = vision
        self.limiter = limiter
        self.blobs = blobs  # beside each image: its local features, its thumbnail
        # Writers of one instance take turns, in every process that serves it, so that the capacity check
        # and the write agree, and an update's read and write see no other write between them.
        self.locks = locks
        # The instances whose collection this process made sure of: by name and birth, since an instance
        # deleted (by any process) and made again under its name needs its collection made again.
        self._opened: set[tuple[str, int]] = set()

    def instance(self, name: str) -> Instance:
        """The named instance, its collection ready in the store."""
        instance = self.instances.get(name)
        opened = (instance.name, instance.created_ms)
        if opened not in self._opened:
            # One process at a time: another must not load a collection this one is still making.
            with self.locks.hold(instance.name):
                if opened not in self._opened:
                    self.store.ensure_collection(instance.collection, self.vision.dim)
                    self._opened.add(opened)
        return instance

    def admit(self, instance_name: str, kind: RequestKind) -> None:
        """Count one request of `kind` against the instance's per-second limit; RateLimited over it."""
        instance = self.instances.get(instance_name)
        limit = instance.qps(kind)
        if limit == 0:
            return
        wait = self.limiter.admit(f"{instance.name}/{kind}", limit)
        if wait is not None:
            raise RateLimited(
                "Your request was denied due to instance flow control: "
                f"instance {instance.name!r} allows {limit} {kind} requests per second",
                retry_after_ms=max(1, math.ceil(wait * 1000)),
            )

    def add(self, request: AddImage) -> PicInfo:
        return self.add_many([request])[0]

    def add_many(self, requests: Sequence[AddImage]) -> list[PicInfo]:
        """Add pictures to one instance, all or none: each is checked and embedded before any is stored."""
        instance = self.instance(requests[0].instance)
        prepared = [self._prepare(instance, request) for request in requests]
        records = {p.record.key: p.record for p in prepared}  # the last of a repeated key wins
        with self.locks.hold(instance.name):
            new = len(records) - len(self.store.get(instance.collection, list(records)))
            if new and self.store.count(instance.collection) + new > instance.capacity:
                raise OverQuota(
                    f"The number of items exceeds the limit: instance {instance.name!r} "
                    f"holds at most {instance.capacity} images",
                )
            self.store.upsert(instance.collection, list(records.values()))
            if unseen := [p.record.key for p in prepared if THUMBNAIL not in p.blobs]:  # not an old one
                self.blobs.delete(instance, unseen)
            for kind in (FEATURES, COLOURS, DETAILS, SOFTENED, SOFTENED_PICTURE, THUMBNAIL):
                if kept := {p.record.key: p.blobs[kind] for p in prepared if kind in p.blobs}:
                    self.blobs.put(instance, kind, kept.items())
        return [p.info for p in prepared]

    def _prepare(self, instance: Instance, request: AddImage) -> Prepared:
        """The image to store, what was seen, and what is kept beside it: the subject's local features
        and colours, and the thumbnail if the instance keeps them."""
        category = _category(instance, request.category_id)
        picture = _as_the_type_reads(instance, request.picture)
        sight = self.vision.see(
            picture.data,
            crop_subject=picture.crop,
            region=picture.region,
            every_subject=False,  # an add stores the first subject; MultiRegion is a search's
            product_shot=True,
        )
        seen = sight.first
        if _predicts(instance, request.category_id):
            category = predict_category(seen.category_scores, probe(self.store, instance.collection, seen))
        record = Image(
            product_id=request.product_id,
            pic_name=request.pic_name,
            category_id=category,
            region=seen.region,
            attributes=request.attributes,
            vector=seen.vector,
        )
        blobs = {
            FEATURES: sight.subject_features().to_bytes(),
            COLOURS: colour.to_bytes(sight.colours(seen.region)),
        }
        if seen.detail is not None:
            blobs[DETAILS] = detail.to_bytes(seen.detail)
        if self.vision.projection is not None:  # the reordering that reads it
            vector, small = sight.softened()
            blobs[SOFTENED], blobs[SOFTENED_PICTURE] = softened.to_bytes(vector), small
        if instance.thumbnails:
            blobs[THUMBNAIL] = sight.thumbnail()
        info = self._pic_info(instance, seen.region, (seen.region,), category)
        return Prepared(record, info, blobs)

    def update(self, instance_name: str, product_id: str, pic_name: str, changes: Mapping[str, Any]) -> None:
        """Change stored attributes (names of `Attributes` fields) of an image, keeping its vector."""
        if unknown := set(changes) - set(ATTRIBUTES):
            raise ValueError(f"not attributes of an image: {sorted(unknown)}")
        instance = self.instance(instance_name)
        with self.locks.hold(instance.name):
            found = self.store.get(instance.collection, [ImageKey(product_id, pic_name)], with_vectors=True)
            if not found:
                raise _no_such_picture(product_id, pic_name)
            stored = found[0]
            self.store.upsert(
                instance.collection, [replace(stored, attributes=replace(stored.attributes, **changes))]
            )

    def get(self, instance_name: str, product_id: str, pic_name: str) -> Image | None:
        """The stored image of (ProductId, PicName), without its vector; None if there is none."""
        instance = self.instance(instance_name)
        found = self.store.get(instance.collection, [ImageKey(product_id, pic_name)])
        return found[0] if found else None

    def delete(self, instance_name: str, product_id: str, pic_name: str | None = None) -> list[str]:
        """Delete one image, or every image of the product when no PicName is given."""
        instance = self.instance(instance_name)
        with self.locks.hold(instance.name):
            if pic_name is not None:
                deleted = self.store.delete(instance.collection, [ImageKey(product_id, pic_name)])
            else:
                deleted = self.store.delete_by_filter(
                    instance.collection, Compare("product_id", "=", product_id)
                )
            self.blobs.delete(instance, deleted)
        return [key.pic_name for key in deleted]

    def delete_by_filter(self, instance_name: str, filter: Filter) -> list[str]:
        instance = self.instance(instance_name)
        with self.locks.hold(instance.name):
            deleted = self.store.delete_by_filter(instance.collection, filter)
            self.blobs.delete(instance, deleted)
        return [key.pic_name for key in deleted]

    def page(
        self, instance_name: str, filter: Filter | None, cursor: str | None, limit: int
    ) -> tuple[list[Image], str | None]:
        """One page of the images the filter matches, in the store's stable order, and the next page's
        cursor (None after the last)."""
        instance = self.instance(instance_name)
        return self.store.scroll(instance.collection, filter=filter, limit=limit, cursor=cursor)

    def count(self, instance_name: str, filter: Filter | None = None) -> int:
        return self.store.count(self.instance(instance_name).collection, filter)

    def thumbnails(self, instance_name: str, keys: Sequence[ImageKey]) -> dict[ImageKey, bytes]:
        """The thumbnails kept of these images (none of an image added with thumbnails off)."""
        return self.blobs.get(self.instance(instance_name), THUMBNAIL, keys)

    def records(self, instance_name: str) -> Iterator[Image]:
        """Every image of the instance, without its vector, page by page."""
        instance = self.instance(instance_name)
        cursor = None
        while True:
            page, cursor = self.store.scroll(instance.collection, limit=1024, cursor=cursor)
            yield from page
            if cursor is None:
                return

    def search_by_pic(self, instance_name: str, picture: Picture, options: SearchOptions) -> SearchResult:
        started = time.perf_counter()
        instance = self.instance(instance_name)
        category = _category(instance, options.category_id)
        picture = _as_the_type_reads(instance, picture)
        sight = self.vision.see(picture.data, crop_subject=picture.crop, region=picture.region)
        predicts = _predicts(instance, options.category_id)
        chosen, views, rivals, others = sight.first, list[View](), list[Probe](), list[Probe]()
        located = picture.crop and picture.region is None
        size = (sight.picture.width, sight.picture.height)

        def found(hit: Hit) -> bool:
            return is_found(
                lambda: sight.features,
                self._features(instance, hit.image.key),
                hit.image.region,
                size,
                lambda: sight.enlarged_features(sight.first.region),
            )

        # A choice to make: the category, the subject, or whether a cluttered photo needs more views.
        if predicts or sight.may_see_more:
            chosen, neighbours, views, rivals, others = best_subject(
                self.store,
                instance.collection,
                chosen,
                sight.further,
                self.vision.unsure,
                worth(self.store, instance.collection, self.vision.background, self._softened(instance)),
                size,
                # In a cluttered photo, a close match must be found in it too for the search to stop looking.
                found if located and sight.located.whole is not None else None,
            )
            chosen = sight.in_full(chosen)  # a screened subject's vector is not compared in a ranking
            if predicts:
                category = predict_category(chosen.category_scores, neighbours)
        if not views and sight.located.whole is not None:
            # A photo whose subject looked sure is still ranked whole too: a stored picture itself, cropped
            # so that its product touches the frame (no plain background), is found by it whatever part
            # of it the subject was (near-duplicates: R@1 of the worst seed 0.990 -> 1.000).
            views = [sight.located.whole]
        # Where the caller said where to look (a Region, or Crop=false), the answer is not looked for
        # elsewhere in the picture. Where the search looked in a cluttered photo, the chosen subject's box
        # drawn in to its object is ranked beside it: a loose box describes the product with its
        # surroundings (vision/tighten.py).
        if located and sight.located.whole is not None and (inner := sight.tightened(chosen)) is not None:
            views = [inner, *views]
        elif picture.region is not None and (upright := sight.upright(chosen)) is not None:
            # The caller's own box, on its product: turned back upright, it also finds a product
            # photographed askew (vision/pipeline.py `LEAST_TILT`).
            views = [*views, upright]
        subjects = (chosen.region, *(other for other in sight.subjects if other != chosen.region))
        return self._search(
            instance,
            chosen,
            subjects,
            category,
            options,
            started,
            predicted=predicts,
            views=views,
            sight=sight if located else None,
            rivals=rivals,
            others=others,
            colours=sight.colours,
            # The caller's own small box is compared with the stored products at its size too. Where the
            # search chose the box, the choice, not the comparison, is what loses small products.
            at_size=None if picture.region is None else self._at_size(instance, sight.pixels(chosen.region)),
        )

    def search_by_name(
        self, instance_name: str, product_id: str, pic_name: str, options: SearchOptions
    ) -> SearchResult:
        """Search with the stored image of (ProductId, PicName) as the query."""
        started = time.perf_counter()
        instance = self.instance(instance_name)
        found = self.store.get(instance.collection, [ImageKey(product_id, pic_name)], with_vectors=True)
        if not found:
            raise _no_such_picture(product_id, pic_name)
        stored = found[0]
        assert stored.vector is not None  # asked for
        given = _category(instance, options.category_id) if options.category_id is not None else None
        category = given if given is not None else stored.category_id
        region = stored.region
        return self._search(instance, View(region, stored.vector), (region,), category, options, started)

    def search_by_text(self, instance_name: str, text: str, options: SearchOptions) -> SearchResult:
        """Search with the text's embedding, for a model with a text tower; every category is searched."""
        started = time.perf_counter()
        instance = self.instance(instance_name)
        vector = self.vision.embed_text(text)
        # A text query has no picture: only the categories of the answer mean something.
        return self._search(instance, View(Box(0, 0, 0, 0), vector), (), OTHER, options, started)

    def search_by_filter(self, instance_name: str, filter: Filter, start: int, num: int) -> list[Image]:
        """The images the filter matches, in the store's stable order, without ranking."""
        instance = self.instance(instance_name)
        end, cursor = min(start + num, MAX_RESULTS), None
        records: list[Image] = []
        while len(records) < end:
            page, cursor = self.store.scroll(
                instance.collection, filter=filter, limit=end - len(records), cursor=cursor
            )
            records += page
            if cursor is None:
                break
        return records[start:end]

    def compare(self, instance_name: str, primary: Picture, secondary: Picture) -> float:
        """Similarity of two pictures in [0, 1], on the same scale as search scores."""
        instance = self.instance(instance_name)
        vectors = []
        for which, picture in (("primary", primary), ("secondary", secondary)):
            try:
                picture = _as_the_type_reads(instance, picture)
                seen = self.vision.see(
                    picture.data, crop_subject=picture.crop, region=picture.region, every_subject=False
                ).first
            except LookalikeError as error:
                raise error.about(f"The {which} picture") from None
            vectors.append(seen.vector)
        return to_score(float(np.dot(vectors[0], vectors[1])))

    def detail(self, instance_name: str) -> tuple[Instance, int]:
        """The instance and how many images it holds."""
        instance = self.instance(instance_name)
        return instance, self.store.count(instance.collection)

    def _search(
        self,
        instance: Instance,
        chosen: View,
        subjects: tuple[Box, ...],
        category: int,
        options: SearchOptions,
        started: float,
        predicted: bool = False,
        views: Sequence[View] = (),
        sight: Sight | None = None,
        rivals: Sequence[Probe] = (),
        others: Sequence[Probe] = (),
        colours: Callable[[Box], np.ndarray] | None = None,
        at_size: Softened | None = None,
    ) -> SearchResult:
        """Search with the chosen view and any further views, each result at its best score, the best
        candidates verified in the `sight`'s picture if given, with the best of each of the `rivals` (the
        other subjects probed nearly as close as the chosen one), and the best of the rivals and the `others`
        (the rest probed) among the first results; PicInfo.Region is where the first result was found, and
        MultiRegion the subjects, the chosen one first."""
        # A product search looks within the category; Other is the catch-all and restricts nothing. A
        # predicted category also keeps the images filed under Other: a guess must not hide them.
        in_category: Filter | None
        if category == OTHER:
            in_category = None
        elif predicted:
            in_category = In("category_id", (category, OTHER))
        else:
            in_category = Compare("category_id", "=", category)
        filter = all_of(options.filter, in_category)
        looks = [chosen, *views]
        vectors = [look.vector for look in looks]
        projection = self.vision.projection
        if sight is None and projection is None:
            hits, found_by = fused_page(self.store, instance.collection, vectors, options, filter)
            region = looks[found_by].region
        else:
            depth = max(min(options.start + options.num, MAX_RESULTS), CANDIDATES, RERANK)
            likeness = None
            if colours is not None:
                by_colour = colours  # its type narrowed, for the closure
                likeness = self._alike(
                    instance,
                    looks,
                    COLOURS,
                    lambda view: by_colour(view.region),
                    colour.from_bytes,
                    colour.likeness,
                )
            details = self._alike(
                instance, looks, DETAILS, lambda view: view.detail, detail.from_bytes, detail.likeness
            )
            ranking = fused_ranking(self.store, instance.collection, vectors, options, filter, depth)
            if projection is not None:
                with stage("rerank"):
                    # Where the search chose where to look, a box of background must not win by a stored
                    # image that looks like any background; where the caller chose, the cosine decides.
                    background = self.vision.background if sight is not None else None
                    ranking = closest_first(
                        self.store,
                        instance.collection,
                        ranking,
                        vectors,
                        projection,
                        background,
                        likeness,
                        details,
                        self._softened(instance),
                        at_size,
                    )
            where = None
            if sight is not None:
                nearest = nearest_accepted(rivals, filter, first_look=len(looks))
                looks += [rival.view for rival in rivals]
                runners_up = nearest + nearest_accepted(others, filter, first_look=len(looks))
                looks += [other.view for other in others]
                with stage("verify"):
                    ranking, where, in_picture, matches = verified_first(
                        ranking,
                        lambda: sight.features,
                        lambda key: self._features(instance, key),
                        (sight.picture.width, sight.picture.height),
                        region_wanted=sight.located.whole is not None,  # a plain background's box is precise
                        rivals=nearest,
                        same=result_of(options),
                        closer=lambda found: sight.enlarged_features(looks[found.look].region),
                        colours=likeness,
                    )
                # Results found in the picture stay first; what the subjects not chosen found follows, if it
                # passes the threshold (scores never rise down the list: one under it would pull the
                # results after it under it too).
                threshold = options.score_threshold or 0.0
                shown = [other for other in runners_up if to_score(other.hit.score) >= threshold]
                ranking = with_runners_up(ranking, shown, result_of(options), kept=max(1, in_picture))
                if sight.located.whole is not None:
                    ranking[:in_picture] = self._scored_where_found(
                        instance, sight, ranking[:in_picture], matches, looks
                    )
            hits = page_of(ranking, options)
            if where is not None:  # where verification found the first result
                region = placed(matches[0], looks[ranking[0].look].region)
            else:
                region = looks[ranking[0].look].region if ranking else chosen.region
        matched = self.store.count(instance.collection, filter)
        elapsed_ms = round((time.perf_counter() - started) * 1000)
        # Where the first result was found stands first in MultiRegion too, in its subject's place.
        pic_info = self._pic_info(instance, region, (region, *subjects[1:]), category)
        return SearchResult(hits, pic_info, matched, elapsed_ms)

    def _scored_where_found(
        self,
        instance: Instance,
        sight: Sight,
        found: list[Found],
        matches: Sequence[Match],
        looks: Sequence[View],
    ) -> list[Found]:
        """The results found in a cluttered photo as copies of their stored picture (by COPY agreeing
        matches or more), each at its closeness to the part of the picture where its stored box lies,
        when that is closer than the box the search found it by and that box is another (one model pass
        for them all). An add boxes a shop's photo of its product in a room by the detector's object
        (vision/pipeline.py), which a search does not look for first: the same photo, searched as it is or
        resized, is found by a box that covers the product in part, and would score lower than the
        picture it is. A shopper's photo of the product is scored as before: on the quality harness such a
        pass raised 13 of 80 scene searches' verified results, by 0.017 of cosine (the median), for 5.6-6.7 %
        of a default scene search's CPU."""
        described = [match.described for match in matches]
        redo = [
            i
            for i, match in enumerate(matches)
            if match.inliers >= COPY and match.described != looks[found[i].look].region
        ]
        if not redo:
            return found
        keys = [found[i].hit.image.key for i in redo]
        stored = {
            image.key: image.vector for image in self.store.get(instance.collection, keys, with_vectors=True)
        }
        boxes = sorted({described[i] for i in redo}, key=lambda box: (box.x1, box.x2, box.y1, box.y2))
        with stage("describe"):
            views = dict(zip(boxes, self.vision.describe(sight.picture, boxes), strict=True))
        rescored = list(found)
        for i, key in zip(redo, keys, strict=True):
            vector = stored.get(key)
            if vector is None:  # deleted meanwhile
                continue
            closeness = float(np.dot(views[described[i]].vector, vector))
            if closeness > found[i].hit.score:
                rescored[i] = found[i]._replace(hit=replace(found[i].hit, score=closeness))
        return rescored

    def _alike(
        self,
        instance: Instance,
        looks: Sequence[View],
        kind: str,
        signature: Callable[[View], np.ndarray | None],
        read: Callable[[bytes], np.ndarray],
        compare: Callable[[np.ndarray, np.ndarray], float],
    ) -> Likeness:
        """How alike each candidate is to the view it was found by, in what a stored image keeps beside its
        vector as `kind` (its colours, its finer detail); None when a candidate was stored without it
        (before it was kept) or the view has none (another model)."""

        def of(candidates: Sequence[Found]) -> np.ndarray | None:
            keys = [found.hit.image.key for found in candidates]
            stored = self.blobs.get(instance, kind, keys)
            alike = []
            for found, key in zip(candidates, keys, strict=True):
                mine = signature(looks[found.look])
                if mine is None or key not in stored:
                    return None
                try:
                    alike.append(compare(mine, read(stored[key])))
                except ValueError:  # written by another version
                    return None
            return np.array(alike)

        return of

    def _softened(self, instance: Instance) -> Softened:
        """Stored images' vectors as a shopper's photo would see them (vision/softened.py); None when one
        was stored without it (before it was kept, imported, or by another model)."""

        def of(keys: Sequence[ImageKey]) -> np.ndarray | None:
            stored = self.blobs.get(instance, SOFTENED, keys)
            try:
                return np.stack([softened.from_bytes(stored[key], self.vision.dim) for key in keys])
            except (KeyError, ValueError):  # not kept, or written by another version
                return None

        return of

    def _at_size(self, instance: Instance, side: int) -> Softened | None:
        """Stored images' subjects described at `side` pixels, the size of a caller's small Region
        (vision/softened.py `matched`: one model pass for the candidates together); None for a Region not
        smaller than the softened view, and for candidates one of which was stored without its view."""
        if side >= softened.SIDE or side < AT_SIZE_LEAST:
            return None

        def of(keys: Sequence[ImageKey]) -> np.ndarray | None:
            stored = self.blobs.get(instance, SOFTENED_PICTURE, keys)
            if any(key not in stored for key in keys):
                return None
            with stage("describe"):
                pictures = [square(softened.matched(stored[key], side)) for key in keys]
                return self.vision.embedder.embed(pictures)

        return of

    def _features(self, instance: Instance, key: ImageKey) -> Features | None:
        """A stored image's local features; None for an image stored without them."""
        data = self.blobs.get(instance, FEATURES, [key]).get(key)
        try:
            return None if data is None else Features.from_bytes(data)
        except ValueError:  # written by another version: the image is left unverified
            return None

    def _pic_info(self, instance: Instance, region: Box, subjects: tuple[Box, ...], category: int) -> PicInfo:
        categories = CATEGORIES if instance.rules.has_categories else {OTHER: CATEGORIES[OTHER]}
        return PicInfo(region=region, category_id=category, categories=categories, multi_region=subjects)


AT_SIZE_LEAST = 16  # pixels: a Region smaller than this holds too little to compare anything at its size


def _predicts(instance: Instance, given: int | None) -> bool:
    """Whether the category is the service's to predict: a product instance, and the caller gave none."""
    return instance.rules.has_categories and given is None


def _no_such_picture(product_id: str, pic_name: str) -> ImageNotFound:
    return ImageNotFound(
        f"The search picture does not exist: no image with ProductId {product_id!r} and PicName {pic_name!r}",
    )


def _as_the_type_reads(instance: Instance, picture: Picture) -> Picture:
    """The picture as the instance's type looks at it: big enough for it, maybe whole whatever was asked."""
    rules = instance.rules
    if rules.min_side > MIN_SIDE:
        width, height = picture_size(picture.data)
        if min(width, height) < rules.min_side:
            raise BadPicture(
                "pixels",
                f"The picture is {width}x{height} px; a {instance.type} instance needs each side to be "
                f"between {rules.min_side} and {MAX_SIDE} px.",
            )
    return Picture(picture.data, crop=False) if rules.whole_picture else picture


def _category(instance: Instance, given: int | None) -> int:
    """The category an image or query is filed under: the caller's if given; Other for every instance type
    but product, whatever was given."""
    if not instance.rules.has_categories:
        return OTHER
    if given is not None and given not in CATEGORIES:
        known = ", ".join(str(c) for c in CATEGORIES)
        raise BadValue("category_id", f"The specified category is invalid: {given} is not one of {known}")
    return OTHER if given is None else given
