"""Ranking semantics on a real embedded store: paging, one result per product, the score threshold."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from lookalike.domain.filters import Compare
from lookalike.domain.image import Attributes, Box, Hit, Image, ImageKey
from lookalike.service.models import SearchOptions
from lookalike.service.search import (
    MAX_RESULTS,
    RUNNERS_UP,
    Found,
    fused_page,
    page_of,
    ranked_page,
    result_of,
    to_score,
    with_runners_up,
)
from lookalike.store.qdrant_edge import QdrantEdgeStore

DIM = 16


def unit(v: np.ndarray) -> np.ndarray:
    return (v / np.linalg.norm(v)).astype(np.float32)


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    store = QdrantEdgeStore(tmp_path_factory.mktemp("search") / "store")
    yield store
    store.close()


@pytest.fixture(scope="module")
def query() -> np.ndarray:
    return unit(np.ones(DIM))


@pytest.fixture(scope="module")
def crowded(store, query) -> str:
    """Product 'crowd' owns the 60 images nearest the query; products 'a'..'e' come after it."""
    rng = np.random.default_rng(3)
    records = []
    for i in range(60):
        records.append(
            _record("crowd", f"{i}.jpg", unit(query + 0.05 * rng.standard_normal(DIM)), int_attr=i)
        )
    for i, product in enumerate("abcde"):
        records.append(
            _record(product, "x.jpg", unit(query + (0.6 + 0.1 * i) * rng.standard_normal(DIM)), int_attr=i)
        )
    store.ensure_collection("crowded", DIM)
    store.upsert("crowded", records)
    return "crowded"


def _record(product: str, pic: str, vector: np.ndarray, int_attr: int = 0) -> Image:
    return Image(product, pic, 0, Box(0, 1, 0, 1), Attributes(int_attr=int_attr), vector)


def test_pages_are_slices_of_the_ranking(store, crowded, query):
    everything = ranked_page(store, crowded, query, SearchOptions(num=65), None)
    assert len(everything) == 65
    for start in (0, 10, 60):
        page = ranked_page(store, crowded, query, SearchOptions(num=10, start=start), None)
        assert [h.image.key for h in page] == [h.image.key for h in everything[start : start + 10]]


def test_distinct_products_reach_past_a_product_with_many_images(store, crowded, query):
    """The first 60 hits are one product: the search must look further to find five others."""
    page = ranked_page(store, crowded, query, SearchOptions(num=10, distinct_product_id=True), None)
    products = [h.image.product_id for h in page]
    assert products[0] == "crowd"
    assert sorted(products) == sorted(["crowd", *"abcde"])
    assert len(set(products)) == len(products)


def test_distinct_paging(store, crowded, query):
    first = ranked_page(store, crowded, query, SearchOptions(num=3, distinct_product_id=True), None)
    second = ranked_page(store, crowded, query, SearchOptions(num=3, start=3, distinct_product_id=True), None)
    assert {h.image.product_id for h in first} | {h.image.product_id for h in second} == {"crowd", *"abcde"}


def test_distinct_respects_the_filter(store, crowded, query):
    low = Compare("int_attr", "<", 3)
    page = ranked_page(store, crowded, query, SearchOptions(num=10, distinct_product_id=True), low)
    assert all(h.image.attributes.int_attr < 3 for h in page)
    assert {h.image.product_id for h in page} == {"crowd", "a", "b", "c"}


def test_the_threshold_cuts_the_ranking(store, crowded, query):
    page = ranked_page(store, crowded, query, SearchOptions(num=100, score_threshold=0.9), None)
    assert page and all(h.score >= 0.9 for h in page)
    assert all(h.image.product_id == "crowd" for h in page)


def test_scores_are_in_zero_one_and_ordered(store, crowded, query):
    page = ranked_page(store, crowded, query, SearchOptions(num=65), None)
    scores = [h.score for h in page]
    assert scores == sorted(scores, reverse=True)
    assert all(0.0 <= s <= 1.0 for s in scores)


def test_no_result_past_rank_500(store, crowded, query):
    assert (
        len(ranked_page(store, crowded, query, SearchOptions(num=100, start=499), None)) <= MAX_RESULTS - 499
    )


@pytest.mark.parametrize(("cosine", "score"), [(1.0000001, 1.0), (0.99999994, 1.0), (0.5, 0.5), (-0.2, 0.0)])
def test_to_score(cosine, score):
    assert to_score(cosine) == score


def near_product_e(store, collection: str) -> np.ndarray:
    (e_image,) = store.get(collection, [ImageKey("e", "x.jpg")], with_vectors=True)
    return unit(e_image.vector + 0.01)


def test_several_vectors_rank_each_image_at_its_best_score(store, crowded, query):
    """A second vector near product 'e' lifts it above the crowd; the rest keeps the first vector's order."""
    near_e = near_product_e(store, crowded)
    fused, found_by = fused_page(store, crowded, [query, near_e], SearchOptions(num=65), None)
    assert fused[0].image.product_id == "e" and found_by == 1
    alone = ranked_page(store, crowded, query, SearchOptions(num=65), None)
    assert [h.image.key for h in fused[1:]] == [h.image.key for h in alone if h.image.product_id != "e"]
    second = ranked_page(store, crowded, near_e, SearchOptions(num=65), None)
    by_second = {h.image.key: h.score for h in second}
    for hit in alone:
        best = max(hit.score, by_second.get(hit.image.key, 0.0))
        assert next(h.score for h in fused if h.image.key == hit.image.key) == best
    # Pages are slices of that ranking; one vector is the plain ranking, found by itself.
    for start in (0, 10, 60):
        page, _ = fused_page(store, crowded, [query, near_e], SearchOptions(num=10, start=start), None)
        assert [h.image.key for h in page] == [h.image.key for h in fused[start : start + 10]]
    assert fused_page(store, crowded, [query], SearchOptions(num=65), None) == (alone, 0)


def test_several_vectors_keep_one_result_per_product_and_the_threshold(store, crowded, query):
    near_e = near_product_e(store, crowded)
    distinct = SearchOptions(num=10, distinct_product_id=True)
    page, _ = fused_page(store, crowded, [query, near_e], distinct, None)
    products = [h.image.product_id for h in page]
    assert products[:2] == ["e", "crowd"] and sorted(products) == sorted(["crowd", *"abcde"])
    second, _ = fused_page(store, crowded, [query, near_e], replace(distinct, num=3, start=3), None)
    assert [h.image.product_id for h in second] == products[3:6]
    high, _ = fused_page(store, crowded, [query, near_e], SearchOptions(num=100, score_threshold=0.9), None)
    assert high and all(h.score >= 0.9 for h in high)
    past_the_end = SearchOptions(num=10, start=MAX_RESULTS)
    assert fused_page(store, crowded, [query, near_e], past_the_end, None) == ([], 0)


def test_a_result_moved_up_lowers_the_scores_of_those_it_passed_to_its_own():
    """Verification and the projection may move a result up past better-scored ones: scores never rise
    down the list, as clients expect."""
    hits = [
        Hit(_record(p, "x.jpg", unit(np.ones(DIM))), score)
        for p, score in (("b", 0.7), ("a", 0.8), ("c", 0.6))
    ]
    ranking = [Found(hit, 0) for hit in hits]
    page = page_of(ranking, SearchOptions(num=3))
    assert [(h.image.product_id, h.score) for h in page] == [("b", 0.7), ("a", 0.7), ("c", 0.6)]
    assert [h.score for h in page_of(ranking, SearchOptions(num=2, start=1))] == [0.7, 0.6]
    assert [h.image.product_id for h in page_of(ranking, SearchOptions(score_threshold=0.65))] == ["b", "a"]


def _found(*products: str, look: int = 0) -> list[Found]:
    return [Found(Hit(_record(p, "x.jpg", unit(np.ones(DIM))), 0.5), look) for p in products]


def _products(ranking: list[Found]) -> list[str]:
    return [found.hit.image.product_id for found in ranking]


def test_what_the_subjects_not_chosen_found_takes_turns_with_the_ranking_after_its_first():
    """Unsure which subject the shopper means, the search ranks one: the others' best finds join the first
    page, the closest subject's first."""
    same = result_of(SearchOptions())
    ranking, runners_up = _found("a", "b", "c", "d"), _found("x", "y", "z", look=3)
    assert RUNNERS_UP == 2
    assert _products(with_runners_up(ranking, runners_up, same)) == ["a", "x", "b", "y", "c", "d"]
    assert _products(with_runners_up(ranking, runners_up, same, most=1)) == ["a", "x", "b", "c", "d"]
    assert _products(with_runners_up(ranking, [], same)) == ["a", "b", "c", "d"]


def test_a_runner_up_the_ranking_holds_is_not_shown_twice_and_found_results_stay_first():
    by_product = result_of(SearchOptions(distinct_product_id=True))
    ranking = _found("a", "b", "c", "d")
    # "a" is first already, so the next subject's find, "c", takes the turn, moved up from the ranking.
    assert _products(with_runners_up(ranking, _found("a", "c", "x"), by_product)) == ["a", "c", "b", "x", "d"]
    # The results verification found in the picture (here two) keep their places.
    assert _products(with_runners_up(ranking, _found("x"), by_product, kept=2)) == ["a", "b", "x", "c", "d"]
