"""Verified candidates move up: on real photos' local features, with a global ranking made up to be sure or
unsure."""

from __future__ import annotations

import numpy as np
import pytest

from lookalike.domain.image import Box, Hit, Image, ImageKey
from lookalike.service.search import Found
from lookalike.service.verify import (
    AGREE,
    CANDIDATES,
    COPY,
    MARGIN,
    SURE,
    TOWARD,
    is_found,
    placed,
    verified_first,
)
from lookalike.vision.decode import decode_reduced
from lookalike.vision.local import (
    MIN_INLIERS,
    QUERY_POINTS,
    STORED_POINTS,
    Features,
    Match,
    extract,
    extract_enlarged,
)
from tests.conftest import jpeg, photo_image, place, plain

SIZE = (1000, 750)


@pytest.fixture(scope="module")
def stored() -> dict[ImageKey, Features]:
    features = {}
    for name in ("coffee", "rocket", "chelsea", "astronaut", "motorcycle"):
        picture, box = place(plain((900, 700)), photo_image(name), at=(180, 140), width=540)
        features[ImageKey(name, "shot.jpg")] = extract(decode_reduced(jpeg(picture)), STORED_POINTS, box)
    return features


@pytest.fixture(scope="module")
def coffee_on_gravel() -> tuple[Features, Box]:
    picture, truth = place(photo_image("gravel").resize(SIZE), photo_image("coffee"), (520, 300), 300, 10)
    return extract(decode_reduced(jpeg(picture, quality=75)), QUERY_POINTS), truth


def ranking(*scored: tuple[str, float]) -> list[Found]:
    box = (180, 720, 140, 140 + round(540 * 400 / 600))  # where each catalog shot holds its product
    return [
        Found(Hit(Image(name, "shot.jpg", 0, box, vector=np.ones(2, np.float32)), score), look=0)
        for name, score in scored
    ]


def names(found: list[Found]) -> list[str]:
    return [f.hit.image.product_id for f in found]


def test_an_unsure_ranking_puts_the_product_found_in_the_picture_first(stored, coffee_on_gravel):
    query, truth = coffee_on_gravel
    unsure = ranking(("rocket", 0.55), ("chelsea", 0.54), ("coffee", 0.53), ("astronaut", 0.5))
    moved, region, found, (match,) = verified_first(unsure, lambda: query, stored.get, SIZE)
    assert names(moved) == ["coffee", "rocket", "chelsea", "astronaut"]
    assert region is not None and region.iou(truth) >= 0.6
    assert found == 1  # the one result found in the picture
    # How it was found: its Region, and its stored box carried into the picture, about the product too.
    assert match.region == region and match.described.iou(truth) >= 0.6 and match.inliers >= MIN_INLIERS


def test_a_sure_ranking_stands_and_only_its_first_is_looked_for(stored, coffee_on_gravel):
    query, truth = coffee_on_gravel
    sure = ranking(("coffee", SURE + 0.1), ("rocket", SURE + 0.1 - MARGIN - 0.01))
    moved, region, *_ = verified_first(sure, lambda: query, stored.get, SIZE)
    assert moved == sure and region is not None and region.iou(truth) >= 0.6
    assert verified_first(sure, lambda: query, stored.get, SIZE, region_wanted=False) == (sure, None, 0, ())
    # Sure of the wrong product: the ranking stands (nothing else is checked) and no region is claimed.
    wrong = ranking(("rocket", SURE + 0.1), ("coffee", SURE - 0.1))
    assert verified_first(wrong, lambda: query, stored.get, SIZE) == (wrong, None, 0, ())


def test_only_the_first_candidates_are_checked(stored, coffee_on_gravel):
    query, _ = coffee_on_gravel
    others = [(name, 0.5) for name in ("rocket", "chelsea", "astronaut", "motorcycle")]
    far = ranking(*(others * 2)[:CANDIDATES], ("coffee", 0.4))
    assert verified_first(far, lambda: query, stored.get, SIZE) == (far, None, 0, ())


def test_images_stored_without_features_keep_their_place_and_the_query_is_not_looked_at(coffee_on_gravel):
    unsure = ranking(("rocket", 0.5), ("coffee", 0.45))

    def query() -> Features:
        raise AssertionError("no candidate has features: the query's are not worth finding")

    assert verified_first(unsure, query, lambda key: None, SIZE) == (unsure, None, 0, ())
    assert verified_first([], query, lambda key: None, SIZE) == ([], None, 0, ())


def test_a_rival_found_in_the_picture_comes_first_though_the_ranking_did_not_hold_it(
    stored, coffee_on_gravel
):
    """The search chose another subject of the picture; the product, best for a subject it passed over, is
    found in the picture all the same."""
    query, truth = coffee_on_gravel
    unsure = ranking(("rocket", 0.55), ("chelsea", 0.54), ("astronaut", 0.5))
    rivals = ranking(("motorcycle", 0.52), ("coffee", 0.5))
    moved, region, *_ = verified_first(unsure, lambda: query, stored.get, SIZE, rivals=rivals)
    assert names(moved) == ["coffee", "rocket", "chelsea", "astronaut"]  # the rival not found stays out
    assert region is not None and region.iou(truth) >= 0.6


def test_a_rival_the_ranking_holds_already_is_one_result(stored, coffee_on_gravel):
    query, _ = coffee_on_gravel
    far = ranking(*[(name, 0.5) for name in ("rocket", "chelsea", "astronaut")][:CANDIDATES], ("coffee", 0.4))
    moved, *_ = verified_first(far, lambda: query, stored.get, SIZE, rivals=ranking(("coffee", 0.45)))
    assert names(moved) == ["coffee", "rocket", "chelsea", "astronaut"]


def test_a_sure_ranking_looks_at_no_rival(stored, coffee_on_gravel):
    query, _ = coffee_on_gravel
    sure = ranking(("rocket", SURE + 0.1), ("chelsea", SURE - 0.1))
    rivals = ranking(("coffee", 0.5))
    assert verified_first(sure, lambda: query, stored.get, SIZE, rivals=rivals) == (sure, None, 0, ())


def test_a_small_product_not_found_in_the_whole_picture_is_found_in_its_box_enlarged(stored):
    """The whole picture's features miss a product 120 px wide; the candidate's own box (where the search
    found it), enlarged, finds it, and it moves up with its Region."""
    picture, truth = place(photo_image("gravel").resize(SIZE), photo_image("coffee"), (520, 300), 120, 10)
    query = decode_reduced(jpeg(picture, quality=75))
    whole = extract(query, QUERY_POINTS)
    unsure = ranking(("rocket", 0.55), ("coffee", 0.53), ("chelsea", 0.5))
    assert verified_first(unsure, lambda: whole, stored.get, SIZE) == (unsure, None, 0, ())
    asked: list[str] = []

    def closer(found: Found) -> Features | None:
        asked.append(found.hit.image.product_id)
        return extract_enlarged(query, truth)

    moved, region, *_ = verified_first(unsure, lambda: whole, stored.get, SIZE, closer=closer)
    assert names(moved) == ["coffee", "rocket", "chelsea"]
    assert region is not None and region.iou(truth) >= 0.6
    assert asked == ["rocket", "coffee", "chelsea"]  # only where the whole picture found nothing
    sure = ranking(("coffee", SURE + 0.1), ("rocket", SURE + 0.1 - MARGIN - 0.01))
    asked.clear()
    assert verified_first(sure, lambda: whole, stored.get, SIZE, closer=closer) == (sure, None, 0, ())
    assert asked == []  # a sure ranking stands; the box of its first is its Region already


def test_a_stored_image_is_found_in_the_picture_by_its_features_or_its_box_enlarged_else_not(stored):
    """What tells a search whose first subject found something close that it found the product: the
    coffee 120 px wide is found by its box enlarged only; the rocket nowhere; an image stored without
    features, or with too few ever to be found (a flat product), cannot be told apart, and counts as found."""
    picture, truth = place(photo_image("gravel").resize(SIZE), photo_image("coffee"), (520, 300), 120, 10)
    query = decode_reduced(jpeg(picture, quality=75))
    whole = extract(query, QUERY_POINTS)
    (box,) = {found.hit.image.region for found in ranking(("coffee", 0.7))}
    coffee, rocket = stored[ImageKey("coffee", "shot.jpg")], stored[ImageKey("rocket", "shot.jpg")]
    assert not is_found(lambda: whole, coffee, box, SIZE)
    assert is_found(lambda: whole, coffee, box, SIZE, lambda: extract_enlarged(query, truth))
    assert not is_found(lambda: whole, rocket, box, SIZE, lambda: extract_enlarged(query, truth))
    assert is_found(lambda: whole, None, box, SIZE)
    flat = Features(coffee.points[: MIN_INLIERS - 1], coffee.descriptors[: MIN_INLIERS - 1])
    assert is_found(lambda: whole, flat, box, SIZE)


def test_colour_variants_that_match_alike_go_by_their_likeness_in_colour(stored, coffee_on_gravel):
    # The same cup stored twice, as two colours of one product: ORB sees grey, so both match alike.
    query, _ = coffee_on_gravel
    both = {**stored, ImageKey("coffee-blue", "shot.jpg"): stored[ImageKey("coffee", "shot.jpg")]}
    unsure = ranking(("coffee", 0.55), ("coffee-blue", 0.54), ("rocket", 0.53))
    moved, *_ = verified_first(unsure, lambda: query, both.get, SIZE)
    assert names(moved)[:2] == ["coffee", "coffee-blue"]  # as many matches: the global order stands

    def blue(candidates: list[Found]) -> np.ndarray:
        return np.array([0.9 if f.hit.image.product_id == "coffee-blue" else 0.3 for f in candidates])

    moved, *_ = verified_first(unsure, lambda: query, both.get, SIZE, colours=blue)
    assert names(moved)[:2] == ["coffee-blue", "coffee"]
    unknown = verified_first(unsure, lambda: query, both.get, SIZE, colours=lambda candidates: None)
    assert names(unknown.ranking)[:2] == ["coffee", "coffee-blue"]  # colours not kept: matches alone


def test_a_verified_product_lies_between_its_carried_box_and_the_box_it_was_found_by_where_they_agree():
    carried, found_by = Box(100, 300, 100, 300), Box(120, 340, 80, 300)
    assert carried.iou(found_by) >= AGREE
    match = Match(COPY - 1, carried, carried)
    assert placed(match, found_by) == carried.toward(found_by, TOWARD) == Box(106, 312, 94, 300)


def test_a_verified_product_keeps_its_carried_box_where_the_found_box_disagrees_or_it_is_a_copy():
    carried = Box(100, 300, 100, 300)
    elsewhere = Box(250, 450, 100, 300)
    assert carried.iou(elsewhere) < AGREE
    assert placed(Match(MIN_INLIERS, carried, carried), elsewhere) == carried
    # A copy of the stored picture is carried over exactly.
    assert placed(Match(COPY, carried, carried), Box(120, 340, 80, 300)) == carried
