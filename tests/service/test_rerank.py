"""The first candidates of a ranking reordered by the learned projection, less the background bank's penalty,
on a real embedded store, the packaged projection and the packaged bank: only their order changes, never
their scores or the rest of the ranking. And what a hit is worth when subjects are compared."""

from __future__ import annotations

import numpy as np
import pytest

from lookalike.domain.image import Attributes, Box, Image, ImageKey
from lookalike.service.models import SearchOptions
from lookalike.service.rerank import COLOUR_WEIGHT, DETAIL_WEIGHT, RERANK, closest_first, worth
from lookalike.service.search import fused_ranking
from lookalike.store.qdrant_edge import QdrantEdgeStore
from lookalike.vision.background import Background
from lookalike.vision.embedder import normalise
from lookalike.vision.projection import Projection

DIM = 1280  # the projection's: it was learnt on the packaged model's vectors


@pytest.fixture(scope="module")
def projection() -> Projection:
    return Projection()


@pytest.fixture(scope="module")
def background() -> Background:
    return Background()


@pytest.fixture
def shop(tmp_path):
    """A store of 12 products, each one picture of a random non-negative vector (as R-MAC's are); and a
    query close to all of them."""
    store = QdrantEdgeStore(tmp_path / "store")
    rng = np.random.default_rng(7)
    base = np.abs(rng.normal(size=DIM))
    vectors = normalise(
        np.stack([base + 0.8 * np.abs(rng.normal(size=DIM)) for _ in range(12)]).astype(np.float32)
    )
    store.ensure_collection("shop", DIM)
    store.upsert(
        "shop", [Image(f"p{i}", "x.jpg", 0, Box(0, 1, 0, 1), Attributes(), v) for i, v in enumerate(vectors)]
    )
    query = normalise(base[None].astype(np.float32))[0]
    yield store, query, dict(zip((f"p{i}" for i in range(12)), vectors, strict=True))
    store.close()


def the_first_five(shop, projection):
    """The shop's ranking for its query, the products of its first RERANK and their projected closeness."""
    store, query, vectors = shop
    ranking = fused_ranking(store, "shop", [query], SearchOptions(num=10), None, 10)
    head = [found.hit.image.product_id for found in ranking[:RERANK]]
    return ranking, head, projection.closeness(query[None], np.stack([vectors[p] for p in head]))


def test_the_first_candidates_go_in_the_order_of_projected_closeness(shop, projection):
    store, query, vectors = shop
    ranking = fused_ranking(store, "shop", [query], SearchOptions(num=10), None, 10)
    reranked = closest_first(store, "shop", ranking, [query], projection)
    head = [found.hit.image.product_id for found in ranking[:RERANK]]
    closeness = projection.closeness(query[None], np.stack([vectors[p] for p in head]))
    assert [f.hit.image.product_id for f in reranked[:RERANK]] == [head[i] for i in np.argsort(-closeness)]
    assert reranked[RERANK:] == ranking[RERANK:]  # the rest stays where the ranking put it
    assert sorted(reranked, key=lambda f: -f.hit.score) == ranking  # each result keeps its own score


def test_each_candidate_counts_at_its_closest_view_of_the_query(shop, projection):
    store, query, vectors = shop
    ranking = fused_ranking(store, "shop", [query], SearchOptions(num=10), None, 10)
    last = ranking[RERANK - 1].hit.image.product_id
    # A second view of the picture that is the last candidate itself: that candidate comes first.
    reranked = closest_first(store, "shop", ranking, [query, vectors[last]], projection)
    assert reranked[0].hit.image.product_id == last


def test_a_candidate_deleted_meanwhile_leaves_the_ranking_as_it_was(shop, projection):
    store, query, _ = shop
    ranking = fused_ranking(store, "shop", [query], SearchOptions(num=10), None, 10)
    store.delete("shop", [ImageKey(ranking[1].hit.image.product_id, "x.jpg")])
    assert closest_first(store, "shop", ranking, [query], projection) == ranking


def test_a_ranking_of_one_is_left_alone(shop, projection):
    store, query, _ = shop
    ranking = fused_ranking(store, "shop", [query], SearchOptions(num=1), None, 1)
    assert closest_first(store, "shop", ranking, [query], projection) == ranking


def test_a_candidate_that_looks_like_any_background_counts_its_penalty_off_its_closeness(
    shop, projection, background
):
    store, query, vectors = shop
    ranking = fused_ranking(store, "shop", [query], SearchOptions(num=10), None, 10)
    reranked = closest_first(store, "shop", ranking, [query], projection, background)
    head = [found.hit.image.product_id for found in ranking[:RERANK]]
    stacked = np.stack([vectors[p] for p in head])
    weighed = projection.closeness(query[None], stacked) - background.penalties(stacked)
    assert [f.hit.image.product_id for f in reranked[:RERANK]] == [head[i] for i in np.argsort(-weighed)]
    assert reranked[RERANK:] == ranking[RERANK:]


def test_a_hit_is_worth_its_cosine_less_its_image_s_penalty_read_once(shop, background):
    store, query, vectors = shop
    hits = [found.hit for found in fused_ranking(store, "shop", [query], SearchOptions(num=4), None, 4)]
    of = worth(store, "shop", background)
    penalties = background.penalties(np.stack([vectors[hit.image.product_id] for hit in hits]))
    queries = [query] * len(hits)
    np.testing.assert_allclose(
        of(hits, queries), [hit.score - p for hit, p in zip(hits, penalties, strict=True)], atol=1e-6
    )
    store.delete("shop", [hits[0].image.key])  # known already: its penalty stays for the rest of the search
    np.testing.assert_allclose(of(hits[:1], queries[:1]), [hits[0].score - penalties[0]], atol=1e-6)
    assert worth(store, "shop", None)(hits, queries) == [hit.score for hit in hits]  # no bank: the cosine


def test_a_hit_is_worth_the_closer_of_its_two_views_to_the_query_it_was_found_by(shop):
    # The second hit's softened view (vision/softened.py) is its query itself; the others' are far. Each hit
    # is compared with its own query: the third's is its own softened view.
    store, query, _ = shop
    hits = [found.hit for found in fused_ranking(store, "shop", [query], SearchOptions(num=3), None, 3)]
    far = normalise(np.random.default_rng(5).normal(size=(3, DIM)).astype(np.float32))
    other = far.copy()
    other[1] = query
    asked = []

    def softened(keys):
        asked.append(list(keys))
        return other

    values = worth(store, "shop", None, softened)(hits, [query, query, far[2]])
    assert asked == [[hit.image.key for hit in hits]]
    assert values[0] == pytest.approx(max(hits[0].score, float(far[0] @ query)))
    assert values[1] == pytest.approx(1.0, abs=1e-6) and values[2] == pytest.approx(1.0, abs=1e-6)
    unknown = worth(store, "shop", None, lambda keys: None)(hits, [query] * 3)
    assert unknown == [hit.score for hit in hits]  # stored without them: the cosine


def test_a_candidate_alike_in_colour_passes_those_barely_closer(shop, projection):
    store, query, _ = shop
    ranking, head, closeness = the_first_five(shop, projection)
    farthest = int(np.argmin(closeness))
    alike = np.eye(RERANK)[farthest]  # the farthest alike in colour (1), the others not at all (0)
    reranked = closest_first(store, "shop", ranking, [query], projection, colours=lambda found: alike)
    order = [head[i] for i in np.argsort(-(closeness + COLOUR_WEIGHT * alike))]
    assert [f.hit.image.product_id for f in reranked[:RERANK]] == order
    passed = int(np.sum(closeness[farthest] + COLOUR_WEIGHT > closeness)) - 1  # those within reach
    assert passed > 0 and order.index(head[farthest]) == RERANK - 1 - passed


def test_a_candidate_alike_in_detail_and_colour_counts_both(shop, projection):
    store, query, _ = shop
    ranking, head, closeness = the_first_five(shop, projection)
    rng = np.random.default_rng(3)
    colours, details = rng.uniform(size=RERANK), rng.uniform(0.7, 1.0, size=RERANK)
    reranked = closest_first(
        store,
        "shop",
        ranking,
        [query],
        projection,
        colours=lambda found: colours,
        details=lambda found: details,
    )
    order = [head[i] for i in np.argsort(-(closeness + COLOUR_WEIGHT * colours + DETAIL_WEIGHT * details))]
    assert [f.hit.image.product_id for f in reranked[:RERANK]] == order
    without = [head[i] for i in np.argsort(-(closeness + COLOUR_WEIGHT * colours))]
    assert order != without  # the detail moved some


def test_colours_not_known_for_every_candidate_leave_the_order_to_the_projection(shop, projection):
    store, query, _ = shop
    ranking = fused_ranking(store, "shop", [query], SearchOptions(num=10), None, 10)
    unknown = closest_first(store, "shop", ranking, [query], projection, colours=lambda found: None)
    assert unknown == closest_first(store, "shop", ranking, [query], projection)


# A candidate's other views: as a shopper sees it (vision/softened.py), and, for a caller's small Region, at
# the Region's size (vision/softened.py `matched`).
OTHER_VIEWS = ("softened", "at_size")


@pytest.mark.parametrize("view", OTHER_VIEWS)
def test_a_candidate_counts_at_the_closest_of_its_views(shop, projection, view):
    # The farthest of the five, seen the other way, is the query itself: at the closest of its views it
    # comes first; the others, whose other views are far, keep their order.
    store, query, _ = shop
    ranking, head, closeness = the_first_five(shop, projection)
    farthest = int(np.argmin(closeness))
    far = normalise(np.random.default_rng(5).normal(size=(RERANK, DIM)).astype(np.float32))
    other = np.where(np.arange(RERANK)[:, None] == farthest, query, far)
    reranked = closest_first(store, "shop", ranking, [query], projection, **{view: lambda keys: other})
    order = [f.hit.image.product_id for f in reranked[:RERANK]]
    assert order[0] == head[farthest]
    assert order[1:] == [head[i] for i in np.argsort(-closeness) if i != farthest]


@pytest.mark.parametrize("view", OTHER_VIEWS)
def test_other_views_not_known_for_every_candidate_leave_the_order_as_it_was(shop, projection, view):
    store, query, _ = shop
    ranking = fused_ranking(store, "shop", [query], SearchOptions(num=10), None, 10)
    unknown = closest_first(store, "shop", ranking, [query], projection, **{view: lambda keys: None})
    assert unknown == closest_first(store, "shop", ranking, [query], projection)
