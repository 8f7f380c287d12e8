"""Which subject a query means and which category it gets, on a real embedded store."""

from __future__ import annotations

import numpy as np
import pytest

from lookalike.domain.filters import Compare
from lookalike.domain.image import Box, Hit, Image
from lookalike.service.categorize import (
    LATER,
    RIVAL,
    SMALL,
    STEPS,
    Probe,
    best_subject,
    nearest_accepted,
    predict_category,
)
from lookalike.service.search import Found
from lookalike.store.qdrant_edge import QdrantEdgeStore
from lookalike.vision.categories import CATEGORIES, OTHER
from lookalike.vision.pipeline import MAX_OTHERS, Further, View
from lookalike.vision.pooling import DEFAULT, UNSURE

DIM = 8
CLOSE = UNSURE[DEFAULT]  # what the packaged descriptor counts as a close neighbour
MODEL_SAYS_OTHER = {category: (0.96 if category == OTHER else 0.04 / 13) for category in CATEGORIES}


def unit(*values: float) -> np.ndarray:
    v = np.array(values + (0.0,) * (DIM - len(values)), np.float32)
    return v / np.linalg.norm(v)


def hit(category: int, score: float) -> Hit:
    record = Image("p", f"{category}-{score}.jpg", category, Box(0, 1, 0, 1), vector=unit(1))
    return Hit(image=record, score=score)


def test_without_neighbours_the_model_decides():
    assert predict_category({**MODEL_SAYS_OTHER, 6: 0.7, OTHER: 0.3}, []) == 6
    assert predict_category(MODEL_SAYS_OTHER, []) == OTHER


def test_a_weak_guess_is_other():
    split = {category: 0.0 for category in CATEGORIES} | {6: 0.45, 20: 0.40, OTHER: 0.15}
    assert predict_category(split, []) == OTHER


def test_close_labelled_neighbours_teach_what_the_model_does_not_know():
    # The model sees nothing of a product category; the shop filed the same product under Toy.
    assert predict_category(MODEL_SAYS_OTHER, [hit(20, 0.97), hit(OTHER, 0.5)]) == 20
    assert predict_category(MODEL_SAYS_OTHER, [hit(20, 0.9), hit(20, 0.88), hit(OTHER, 0.6)]) == 20


def test_the_picture_itself_stored_gives_its_category_whatever_the_others_say():
    """A shop's own picture, cropped and recompressed, among ten similar-looking products of another
    category: its category, not theirs, else the category would hide it from its own search."""
    furniture = [hit(9, 0.66)] * 10
    assert predict_category({**MODEL_SAYS_OTHER, 9: 0.8, OTHER: 0.2}, [hit(20, 0.96), *furniture]) == 20
    assert predict_category({**MODEL_SAYS_OTHER, 9: 0.8, OTHER: 0.2}, [hit(20, 0.8), *furniture]) == 9


def test_the_picture_itself_filed_under_several_categories_restricts_to_none():
    # Any one of them would hide the products filed under the others from the search.
    furniture = [hit(9, 0.66)] * 10
    same = [hit(20, 0.99), hit(3, 0.99)]
    assert predict_category({**MODEL_SAYS_OTHER, 3: 0.8, OTHER: 0.2}, [*same, *furniture]) == OTHER


def test_unrelated_neighbours_teach_nothing():
    # Every probe returns its nearest images, related or not: a far one must not decide.
    assert predict_category(MODEL_SAYS_OTHER, [hit(4, 0.35), hit(4, 0.3), hit(3, 0.3)]) == OTHER


@pytest.fixture
def store(tmp_path):
    store = QdrantEdgeStore(tmp_path / "store")
    store.ensure_collection("shop", DIM)
    store.upsert(
        "shop",
        [
            Image("shoe", "1.jpg", 4, Box(0, 1, 0, 1), vector=unit(1, 0, 0)),
            Image("bag", "1.jpg", 3, Box(0, 1, 0, 1), vector=unit(0, 1, 0)),
        ],
    )
    yield store
    store.close()


FIRST, SECOND = Box(0, 10, 0, 10), Box(20, 30, 0, 10)


def test_a_first_subject_that_finds_something_close_is_kept_without_looking_further(store):
    first = View(FIRST, unit(1, 0.1, 0))
    assert float(first.vector @ unit(1, 0, 0)) >= CLOSE

    def further(most: int):
        raise AssertionError("the other subjects were described though the first found its product")

    chosen, hits, views, *_ = best_subject(store, "shop", first, further, CLOSE)
    assert chosen is first and hits[0].image.product_id == "shoe" and views == []


def test_a_first_subject_whose_close_find_is_not_in_the_picture_looks_further(store):
    """Close is not enough where the search can tell: the first subject's nearest stored image must also
    be found in the picture, or the others are looked at too, and the closest of them wins."""
    first = View(FIRST, unit(1, 0.6, 0))  # close to the shoe
    second = View(SECOND, unit(0.05, 1, 0))  # closer still to the bag
    asked: list[str] = []

    def found(hit: Hit) -> bool:
        asked.append(hit.image.product_id)
        return False

    chosen, hits, *_ = best_subject(store, "shop", first, lambda _: Further([second], []), CLOSE, found=found)
    assert chosen is second and hits[0].image.product_id == "bag" and asked == ["shoe"]
    # Found there, it stands without the others being described.
    kept = best_subject(
        store, "shop", first, lambda _: pytest.fail("looked further"), CLOSE, found=lambda _: True
    )
    assert kept.subject is first


def test_when_the_first_finds_nothing_close_the_closest_subject_wins(store):
    first = View(FIRST, unit(1, 1, 3))  # background: far from both products
    second = View(SECOND, unit(0.1, 1, 0))
    chosen, hits, *_ = best_subject(store, "shop", first, lambda _: Further([second], []), CLOSE)
    assert chosen is second and hits[0].image.product_id == "bag"
    # ... and a first subject stays when the others are no closer.
    worse = View(SECOND, unit(0, 0, 1))
    assert best_subject(store, "shop", first, lambda _: Further([worse], []), CLOSE).subject is first


def test_a_subject_further_down_must_be_closer_by_later_per_place(store):
    """A box around background finds something a little alike: the vision's order breaks near-ties."""
    first = View(FIRST, unit(1, 1, 3))  # as close to the shoe as to the bag
    closest = float(first.vector @ unit(1, 0, 0))
    background = View(Box(40, 50, 0, 10), unit(0, 0, 1))

    def third(closer_by: float) -> View:  # in third place, its nearest stored image (the shoe) closer
        cosine = closest + closer_by
        return View(SECOND, np.array([cosine, 0, (1 - cosine**2) ** 0.5, *[0] * (DIM - 3)], np.float32))

    winner = third(2 * LATER + 0.01)
    chosen, hits, *_ = best_subject(store, "shop", first, lambda _: Further([background, winner], []), CLOSE)
    assert chosen is winner and hits[0].image.product_id == "shoe"
    loser = third(2 * LATER - 0.01)
    assert (
        best_subject(store, "shop", first, lambda _: Further([background, loser], []), CLOSE).subject is first
    )


def test_a_smaller_subject_must_be_closer_by_small_per_e_fold_of_the_picture_it_does_not_fill(store):
    """A few pixels enlarged look a little like many stored products: a small box's nearest is close by
    chance more often than a large box's."""
    frame = (100, 100)
    first = View(Box(0, 100, 0, 100), unit(1, 1, 3))  # the whole frame, as close to the shoe as to the bag
    closest = float(first.vector @ unit(1, 0, 0))

    def small(closer_by: float) -> View:  # a hundredth of the frame, second: its nearest (the shoe) closer
        cosine = closest + closer_by
        return View(
            Box(0, 10, 0, 10), np.array([cosine, 0, (1 - cosine**2) ** 0.5, *[0] * (DIM - 3)], np.float32)
        )

    handicap = LATER + SMALL * np.log(100)
    for closer_by, wins in ((LATER + 0.005, False), (handicap - 0.005, False), (handicap + 0.005, True)):
        further = Further([small(closer_by)], [])
        chosen = best_subject(store, "shop", first, lambda _, more=further: more, CLOSE, frame=frame)
        assert (chosen.subject is not first) == wins
    # Without the frame, the size of a box does not count.
    loose = best_subject(store, "shop", first, lambda _: Further([small(LATER + 0.005)], []), CLOSE)
    assert loose.subject is not first


def test_other_subjects_are_described_in_steps_each_only_if_none_before_finds_something_close(store):
    first = View(FIRST, unit(1, 1, 3))  # background: far from both products
    background = View(Box(40, 50, 0, 10), unit(0, 0, 1))
    bag = View(SECOND, unit(0.1, 1, 0))  # close to the bag
    asked: list[int] = []

    def further(views: list[View]):
        def described(most: int) -> Further:
            asked.append(most)
            return Further(views[:most], [])

        return described

    assert STEPS[-1] == MAX_OTHERS
    for step, most in enumerate(STEPS):
        asked.clear()
        found_by = [background] * (most - 1) + [bag] + [background] * MAX_OTHERS
        assert best_subject(store, "shop", first, further(found_by), CLOSE).subject is bag
        assert asked == list(STEPS[: step + 1])
    # Nothing close anywhere: every step, then the closest of them all.
    asked.clear()
    best_subject(store, "shop", first, further([background] * MAX_OTHERS), CLOSE)
    assert asked == list(STEPS)
    # Fewer subjects than a step asks for: no further step.
    asked.clear()
    best_subject(store, "shop", first, further([background] * (STEPS[0] - 1)), CLOSE)
    assert asked == [STEPS[0]]


def test_when_the_first_finds_nothing_close_the_views_of_its_surroundings_are_searched_too(store):
    lonely = View(FIRST, unit(1, 1, 3))
    around = [View(Box(0, 20, 0, 20), unit(1, 0.2, 0)), View(Box(0, 100, 0, 100), unit(1, 1, 1))]
    chosen, _, views, *_ = best_subject(store, "shop", lonely, lambda _: Further([], around), CLOSE)
    assert chosen is lonely and views == around


def test_an_empty_instance_never_looks_further(store):
    store.ensure_collection("empty", DIM)
    first = View(FIRST, unit(1, 1, 3))
    chosen = best_subject(store, "empty", first, lambda _: pytest.fail("nothing to compare with"), CLOSE)
    assert chosen == (first, [], [], [], [])


def test_the_subjects_not_chosen_are_its_rivals_if_nearly_as_close_else_its_others(store):
    """Where else the product may be: verification looks for their nearest stored images too."""
    first = View(FIRST, unit(1, 1, 3))  # background: far from both products
    bag = View(SECOND, unit(0.1, 1, 0))
    shoe = View(Box(40, 50, 0, 10), unit(1, 0.3, 0))
    choice = best_subject(store, "shop", first, lambda _: Further([bag, shoe], []), CLOSE)
    assert choice.subject is bag
    assert [rival.view for rival in choice.rivals] == [shoe]  # not the first: further than RIVAL
    assert [other.view for other in choice.others] == [first]  # probed all the same: the first page shows it
    assert choice.rivals[0].neighbours[0].image.product_id == "shoe"
    bag_score, shoe_score = choice.neighbours[0].score, choice.rivals[0].neighbours[0].score
    assert shoe_score >= bag_score - RIVAL


def test_a_rival_s_best_is_its_nearest_image_that_the_search_s_filter_accepts():
    """Probes are not filtered: a rival's answer must still obey the filter the caller gave."""
    shoe, bag = hit(4, 0.8), hit(3, 0.7)
    rivals = [Probe(View(FIRST, unit(1)), [shoe, bag]), Probe(View(SECOND, unit(0, 1)), [shoe])]
    assert nearest_accepted(rivals, None, first_look=2) == [Found(shoe, 2), Found(shoe, 3)]
    bags_only = Compare("category_id", "=", 3)
    assert nearest_accepted(rivals, bags_only, first_look=2) == [Found(bag, 2)]  # the second rival has none


def test_a_subject_whose_nearest_image_looks_like_any_background_counts_for_less(store):
    """The bag is closer to the second subject than the shoe to the first; but the bag looks like any stretch
    of background, and what a match is worth is its cosine less that."""
    first = View(FIRST, unit(1, 0.25, 1.2))  # nearest: the shoe, not close
    second = View(SECOND, unit(0.1, 1, 1))  # nearest: the bag, closer
    assert float(first.vector @ unit(1, 0, 0)) < CLOSE
    assert float(second.vector @ unit(0, 1, 0)) > float(first.vector @ unit(1, 0, 0)) + LATER

    def further(most: int) -> Further:
        return Further([second], [])

    assert best_subject(store, "shop", first, further, CLOSE).subject is second
    common = {"bag": 0.1, "shoe": 0.0}

    def worth(hits, queries):
        return [hit.score - common[hit.image.product_id] for hit in hits]

    chosen, hits, *_ = best_subject(store, "shop", first, further, CLOSE, worth)
    assert chosen is first and hits[0].image.product_id == "shoe"
