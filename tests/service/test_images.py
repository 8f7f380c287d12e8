"""The image service's own rules, on the real embedded store, with a stand-in vision that says exactly what
it saw (tests/service/stand_in_vision.py): capacity, categories, paging, and the ranking of a query seen in
several views (each image, or each product with DistinctProductId, at its best score)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from lookalike.datadir import NamedLocks
from lookalike.domain.errors import BadValue, OverQuota
from lookalike.domain.filters import Compare
from lookalike.domain.image import Attributes, Box, ImageKey
from lookalike.service.image_blobs import ImageBlobs
from lookalike.service.images import ImageService
from lookalike.service.instances import Instances
from lookalike.service.limits import SharedRateLimiter
from lookalike.service.models import AddImage, InstanceType, Picture, SearchOptions, SearchResult
from lookalike.service.verify import FEATURES
from lookalike.store.qdrant_edge import QdrantEdgeStore
from lookalike.vision.categories import OTHER
from lookalike.vision.local import MIN_INLIERS, Features
from tests.service.stand_in_vision import StandInVision, view

WHOLE = Box(0, 100, 0, 100)
SHOE, BAG = 4, 3  # two of the service's categories


@pytest.fixture
def vision() -> StandInVision:
    return StandInVision()


@pytest.fixture
def service(tmp_path: Path, vision: StandInVision) -> Iterator[ImageService]:
    store = QdrantEdgeStore(tmp_path / "store")
    limiter = SharedRateLimiter(tmp_path / "limits.sqlite3")
    locks, blobs = NamedLocks(tmp_path / "locks"), ImageBlobs(tmp_path / "blobs")
    yield ImageService(Instances(tmp_path / "instances"), store, vision, limiter, locks, blobs)
    for part in (store, limiter, blobs, locks):
        part.close()


def instance(service: ImageService, name: str, type: InstanceType = "product", capacity: int = 100) -> str:
    service.instances.create(name, type, capacity, thumbnails=False)  # a thumbnail needs real pixels
    return name


def add(
    service: ImageService,
    vision: StandInVision,
    where: str,
    product: str,
    *values: float,
    category: int | None = None,
    int_attr: int = 0,
) -> None:
    picture = vision.picture(f"{product}-{values}", view(WHOLE, *values))
    attributes = Attributes(int_attr=int_attr)
    service.add(AddImage(where, product, f"{values}.jpg", Picture(picture), category, attributes))


def found(result: SearchResult) -> list[tuple[str, float]]:
    return [(hit.image.product_id, round(hit.score, 3)) for hit in result.hits]


# -- capacity ------------------------------------------------------------------------------------------------


def test_an_instance_holds_no_more_images_than_its_capacity(service, vision):
    shop = instance(service, "shop", capacity=2)
    add(service, vision, shop, "a", 1, 0)
    add(service, vision, shop, "b", 0, 1)
    with pytest.raises(OverQuota, match="at most 2 images"):
        add(service, vision, shop, "c", 1, 1)
    add(service, vision, shop, "a", 1, 0, int_attr=7)  # the same key again: nothing new to hold
    assert service.detail(shop)[1] == 2
    service.delete(shop, "b")
    add(service, vision, shop, "c", 1, 1)
    assert service.detail(shop)[1] == 2


def test_a_batch_that_would_pass_the_capacity_stores_none_of_it(service, vision):
    shop = instance(service, "shop", capacity=2)
    add(service, vision, shop, "a", 1, 0)
    batch = [
        AddImage(shop, product, "1.jpg", Picture(vision.picture(product, view(WHOLE, 0, 1))))
        for product in ("b", "c")
    ]
    with pytest.raises(OverQuota):
        service.add_many(batch)
    assert service.detail(shop)[1] == 1 and service.get(shop, "b", "1.jpg") is None


# -- categories ----------------------------------------------------------------------------------------------


def test_a_given_category_files_the_image_and_restricts_the_search(service, vision):
    shop = instance(service, "shop")
    add(service, vision, shop, "shoe", 1, 0, category=SHOE)
    add(service, vision, shop, "bag", 1, 0.1, category=BAG)
    query = vision.picture("query", view(WHOLE, 1, 0))
    result = service.search_by_pic(shop, Picture(query), SearchOptions(category_id=BAG))
    assert [p for p, _ in found(result)] == ["bag"]
    assert (result.pic_info.category_id, result.docs_matched) == (BAG, 1)
    assert service.get(shop, "shoe", "(1, 0).jpg").category_id == SHOE


def test_an_instance_of_another_type_files_everything_under_other(service, vision):
    photos = instance(service, "photos", type="generic")
    add(service, vision, photos, "shoe", 1, 0, category=SHOE)
    assert service.get(photos, "shoe", "(1, 0).jpg").category_id == OTHER
    query = vision.picture("query", view(WHOLE, 1, 0))
    result = service.search_by_pic(photos, Picture(query), SearchOptions(category_id=BAG))  # not a filter
    assert [p for p, _ in found(result)] == ["shoe"] and result.pic_info.category_id == OTHER
    assert list(result.pic_info.categories) == [OTHER]


def test_a_category_the_service_does_not_have_is_refused(service, vision):
    shop = instance(service, "shop")
    with pytest.raises(BadValue) as refused:
        add(service, vision, shop, "shoe", 1, 0, category=12345)
    assert refused.value.detail == "category_id"


def test_a_predicted_category_keeps_the_images_filed_under_other(service, vision):
    """The model says bag and the nearest stored image is a bag: the search keeps to bags and to the
    images filed under Other (a guess must not hide them), and leaves out the closer shoe."""
    shop = instance(service, "shop")
    add(service, vision, shop, "bag", 1, 0, category=BAG)
    add(service, vision, shop, "shoe", 0.8, 0.6, category=SHOE)  # cosine 0.8
    add(service, vision, shop, "unfiled", 0.6, 0.8, category=OTHER)  # cosine 0.6
    query = vision.picture("query", view(WHOLE, 1, 0, categories={BAG: 1.0}))
    result = service.search_by_pic(shop, Picture(query), SearchOptions())
    assert result.pic_info.category_id == BAG
    assert found(result) == [("bag", 1.0), ("unfiled", 0.6)]


# -- paging --------------------------------------------------------------------------------------------------


def test_pages_are_slices_of_one_ranking_and_docs_matched_counts_every_match(service, vision):
    photos = instance(service, "photos", type="generic")
    for i in range(12):
        add(service, vision, photos, f"p{i:02}", 1, i / 10, int_attr=i % 2)
    query = Picture(vision.picture("query", view(WHOLE, 1, 0)))
    ranking = found(service.search_by_pic(photos, query, SearchOptions(num=12)))
    assert [p for p, _ in ranking] == [f"p{i:02}" for i in range(12)]
    for start in (0, 5, 10):
        page = service.search_by_pic(photos, query, SearchOptions(num=5, start=start))
        assert found(page) == ranking[start : start + 5] and page.docs_matched == 12
    odd = service.search_by_pic(photos, query, SearchOptions(filter=Compare("int_attr", "=", 1)))
    assert odd.docs_matched == 6 and [p for p, _ in found(odd)] == [f"p{i:02}" for i in range(1, 12, 2)]
    threshold = service.search_by_pic(photos, query, SearchOptions(num=12, score_threshold=0.9))
    assert found(threshold) == [hit for hit in ranking if hit[1] >= 0.9]


# -- a query seen in several views ---------------------------------------------------------------------------

SUBJECT, AROUND = Box(10, 50, 10, 50), Box(0, 60, 0, 60)


@pytest.fixture
def cluttered(service: ImageService, vision: StandInVision) -> tuple[str, Picture]:
    """A query whose first subject finds nothing close (cosine 0.55 at best), so the service looks further:
    the subject in its surroundings finds product x. Product y has two images near the subject alone."""
    photos = instance(service, "photos", type="generic")
    add(service, vision, photos, "x", 0.3, 0.954)  # cosine 0.3 to the subject, 0.954 to the surroundings
    add(service, vision, photos, "y", 0.55, 0, 0.835)  # 0.55 to the subject
    add(service, vision, photos, "y", 0.5, 0, 0, 0.866)  # 0.5 to the subject
    query = vision.picture("query", view(SUBJECT, 1, 0), around=(view(AROUND, 0, 1),))
    return photos, Picture(query)


def test_each_image_ranks_at_its_best_score_over_the_views(service, vision, cluttered):
    photos, query = cluttered
    result = service.search_by_pic(photos, query, SearchOptions())
    assert vision.sights[-1].further_calls == 1
    assert found(result) == [("x", 0.954), ("y", 0.55), ("y", 0.5)]
    # The region that found the first result is PicInfo's, and stands first in MultiRegion.
    assert result.pic_info.region == AROUND and result.pic_info.multi_region[0] == AROUND


def test_distinct_products_across_views_keep_each_product_once_at_its_best(service, vision, cluttered):
    photos, query = cluttered
    result = service.search_by_pic(photos, query, SearchOptions(distinct_product_id=True))
    assert found(result) == [("x", 0.954), ("y", 0.55)]
    second = service.search_by_pic(photos, query, SearchOptions(distinct_product_id=True, num=1, start=1))
    assert found(second) == [("y", 0.55)]


def test_a_screened_subject_chosen_is_ranked_by_its_full_description(service, vision):
    """The other subjects are screened (described by the model in 8 bits) to choose the one the shopper
    means; the ranking is the full model's description of it."""
    photos = instance(service, "photos", type="generic")
    add(service, vision, photos, "x", 0, 1, 0)
    add(service, vision, photos, "y", 0, 0.6, 0.8)
    other = Box(60, 90, 60, 90)
    query = vision.picture(
        "query",
        view(SUBJECT, 1, 0),  # finds nothing close: the service looks further
        view(other, 0, 1, 0.05, screened=True),  # screened, it is nearest to x
        in_full=(view(other, 0, 0.8, 0.6),),  # in full, nearer to y
    )
    result = service.search_by_pic(photos, Picture(query), SearchOptions())
    assert found(result) == [("y", 0.96), ("x", 0.8)]
    assert result.pic_info.region == other


def test_an_unsure_search_shows_what_the_subjects_it_did_not_choose_found_among_its_first(service, vision):
    """Unsure which subject the shopper means, the search ranks the one whose nearest stored image is
    closest; the product may be another's: the first page shows that subject's best find second."""
    photos = instance(service, "photos", type="generic")
    add(service, vision, photos, "lamp", 0, 1, 0)
    add(service, vision, photos, "lamp-like", 0, 0.9, 0.44)
    add(service, vision, photos, "vase", 0, 0, 0, 1)
    query = vision.picture(
        "query",
        view(SUBJECT, 0, 0, 1),  # finds nothing close (cosine 0.44 at best): the service looks further
        view(Box(60, 90, 60, 90), 0, 1, 0.05),  # the lamp at 0.999: chosen
        view(Box(0, 10, 60, 90), 0, 0, 1, 0.8),  # the vase at 0.625, too far behind to be a rival
    )
    result = service.search_by_pic(photos, Picture(query), SearchOptions())
    assert found(result) == [("lamp", 0.999), ("vase", 0.625), ("lamp-like", 0.625)]
    assert result.pic_info.region == Box(60, 90, 60, 90)  # where the first result was found
    later = service.search_by_pic(photos, Picture(query), SearchOptions(num=2, start=1))
    assert found(later) == found(result)[1:3]  # pages are slices of the one ranking
    # A find under the threshold is not shown, nor pulls the results after it under it.
    strict = service.search_by_pic(photos, Picture(query), SearchOptions(score_threshold=0.8))
    assert found(strict) == [("lamp", 0.999), ("lamp-like", 0.919)]
    # Where the caller said where to look, no other subject is looked at.
    given = service.search_by_pic(photos, Picture(query, region=Box(60, 90, 60, 90)), SearchOptions())
    assert "vase" not in [product for product, _ in found(given)][:2]


def test_the_chosen_subject_s_box_drawn_in_is_ranked_beside_it_and_is_where_its_find_was(service, vision):
    """A loose box describes the product with its surroundings; the box drawn in to its object finds it."""
    photos = instance(service, "photos", type="generic")
    add(service, vision, photos, "loose", 1, 0.1)
    add(service, vision, photos, "product", 0.1, 0, 1)
    inner = Box(20, 40, 20, 40)
    query = vision.picture(
        "query",
        view(SUBJECT, 1, 0),
        around=(view(AROUND, 0, 1),),
        tightened={SUBJECT: view(inner, 0.1, 0, 1)},
    )
    result = service.search_by_pic(photos, Picture(query), SearchOptions())
    assert [(p, round(s, 2)) for p, s in found(result)] == [("product", 1.0), ("loose", 0.99)]
    assert result.pic_info.region == inner and result.pic_info.multi_region == (inner,)
    # Where the caller said where to look, the box is the caller's: nothing is drawn in.
    whole = service.search_by_pic(photos, Picture(query, crop=False), SearchOptions())
    assert found(whole)[0][0] == "loose" and whole.pic_info.region == SUBJECT


def test_a_subject_that_finds_something_close_is_searched_with_the_whole_picture_alone(service, vision):
    photos = instance(service, "photos", type="generic")
    add(service, vision, photos, "near", 1, 0.1)
    add(service, vision, photos, "around", 0.2, 1, 1)
    query = vision.picture("query", view(SUBJECT, 1, 0), around=(view(AROUND, 0, 1),))
    result = service.search_by_pic(photos, Picture(query), SearchOptions())
    assert vision.sights[-1].further_calls == 0  # cosine 0.995: sure enough
    # "around" at its cosine to the whole picture (0.70), not to the subject (0.14).
    assert [(p, round(s, 2)) for p, s in found(result)] == [("near", 0.99), ("around", 0.7)]
    assert result.pic_info.region == SUBJECT


def test_a_close_find_whose_features_are_not_in_a_cluttered_photo_is_looked_past(service, vision):
    """Close is not sure where the search can tell: a stored image with features of its own that the
    picture's do not match (a stand-in picture has none) sends the search further; a photo searched whole
    (Crop=false) is not looked into."""
    photos = instance(service, "photos", type="generic")
    add(service, vision, photos, "near", 1, 0.1)
    add(service, vision, photos, "around", 0.2, 1, 1)
    textured = Features(np.zeros((MIN_INLIERS, 2), np.float32), np.ones((MIN_INLIERS, 32), np.uint8))
    key = ImageKey("near", "(1, 0.1).jpg")
    service.blobs.put(service.instance(photos), FEATURES, [(key, textured.to_bytes())])
    query = vision.picture("query", view(SUBJECT, 1, 0), around=(view(AROUND, 0, 1),))
    service.search_by_pic(photos, Picture(query), SearchOptions())
    assert vision.sights[-1].further_calls == 1  # cosine 0.995, yet not found in the picture
    service.search_by_pic(photos, Picture(query, crop=False), SearchOptions())
    assert vision.sights[-1].further_calls == 0


def test_a_stored_picture_itself_is_found_whole_though_a_part_of_it_looked_sure(service, vision):
    photos = instance(service, "photos", type="generic")
    add(service, vision, photos, "part", 1, 0.1)
    add(service, vision, photos, "itself", 0, 1)
    query = vision.picture("query", view(SUBJECT, 1, 0), around=(view(AROUND, 0, 1),))
    result = service.search_by_pic(photos, Picture(query), SearchOptions())
    assert found(result)[0] == ("itself", 1.0) and result.pic_info.region == AROUND


def test_a_given_region_is_also_searched_turned_upright(service, vision):
    """A product photographed askew matches its upright catalog shot better turned back: the caller's box
    is ranked with its content turned upright beside it; a box the service found itself is not."""
    photos = instance(service, "photos", type="generic")
    add(service, vision, photos, "look-alike", 1, 0.3)
    add(service, vision, photos, "askew", 0.3, 1)
    query = vision.picture("query", view(SUBJECT, 1, 0), upright={SUBJECT: view(SUBJECT, 0.3, 1)})
    given = service.search_by_pic(photos, Picture(query, region=SUBJECT), SearchOptions())
    assert [(p, round(s, 2)) for p, s in found(given)] == [("askew", 1.0), ("look-alike", 0.96)]
    assert given.pic_info.region == SUBJECT and vision.sights[-1].upright_calls == 1
    looked = service.search_by_pic(photos, Picture(query), SearchOptions())
    assert found(looked)[0][0] == "look-alike" and vision.sights[-1].upright_calls == 0
