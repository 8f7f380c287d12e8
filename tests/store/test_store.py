"""What every store promises, checked through the `Store` protocol on each backend of conftest.BACKENDS.

The truth for filters is `base.matches`; the truth for search is brute force over the same unit vectors.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from dataclasses import replace

import numpy as np
import pytest

from lookalike.domain.filters import And, Compare, Filter, In, Not, Or, matches
from lookalike.domain.image import Attributes, Box, Image, ImageKey
from lookalike.store.base import Store

from .conftest import DIM, make_records, random_filter, unit


def brute_force(records: list[Image], query: np.ndarray, filter: Filter | None = None):
    """(record, cosine) of the records the filter accepts, best first."""
    kept = [r for r in records if filter is None or matches(filter, r)]
    scores = np.array([float(r.vector @ query) for r in kept])
    return [(kept[i], scores[i]) for i in np.argsort(-scores, kind="stable")]


def assert_same_ranking(hits, expected) -> None:
    assert [h.image.key for h in hits] == [r.key for r, _ in expected]
    assert [h.score for h in hits] == pytest.approx([s for _, s in expected], abs=1e-5)


def keys(records) -> list[ImageKey]:
    return [r.key for r in records]


# -- writing and reading records -----------------------------------------------------------------------------


def test_round_trip_keeps_every_field(store: Store, collection: str):
    record = Image(
        product_id="商品-1 'quoted' \"double\"",
        pic_name="图片 😀.jpg",
        category_id=88888888,
        region=Box(1, 200, 3, 400),
        attributes=Attributes(
            custom_content='{"json": true}\nsecond line',
            int_attr=-(2**31),
            int_attr2=2**31 - 1,
            int_attr3=-1,
            int_attr4=0,
            str_attr="é",
            str_attr2="中文",
            str_attr3="",
            str_attr4="a\\b",
        ),
        vector=unit(np.random.default_rng(1), 1)[0],
    )
    store.upsert(collection, [record])

    (got,) = store.get(collection, [record.key], with_vectors=True)
    assert got == record  # every field but the vector
    assert got.region == (1, 200, 3, 400)
    np.testing.assert_allclose(got.vector, record.vector, atol=1e-6)
    (without,) = store.get(collection, [record.key])
    assert without == record and without.vector is None


def test_upsert_overwrites_by_key(store: Store, collection: str):
    first, second = make_records(2)
    second.product_id, second.pic_name = first.product_id, first.pic_name
    second.attributes = replace(second.attributes, int_attr=42)
    store.upsert(collection, [first])
    store.upsert(collection, [second])

    assert store.count(collection) == 1
    (got,) = store.get(collection, [first.key])
    assert got.attributes.int_attr == 42
    (hit,) = store.search(collection, second.vector, limit=1)
    assert hit.image.key == first.key and hit.score == pytest.approx(1.0, abs=1e-5)


def test_keys_differ_by_both_parts(store: Store, collection: str):
    a, b, c = make_records(3)
    a.product_id, a.pic_name = "p", "x.jpg"
    b.product_id, b.pic_name = "px", ".jpg"  # same concatenation as a
    c.product_id, c.pic_name = "x.jpg", "p"  # the parts swapped
    store.upsert(collection, [a, b, c])
    assert store.count(collection) == 3


def test_get_returns_existing_records_in_the_order_asked(store: Store, collection: str):
    records = make_records(5)
    store.upsert(collection, records)
    missing = [ImageKey("nope", "0.jpg"), ImageKey(records[1].product_id, "nope")]
    asked = [records[3].key, missing[0], records[0].key, missing[1]]

    assert keys(store.get(collection, asked)) == [records[3].key, records[0].key]
    assert store.get(collection, []) == []


def test_delete_returns_the_keys_that_existed(store: Store, collection: str):
    records = make_records(5)
    store.upsert(collection, records)
    missing = ImageKey("nope", "0.jpg")

    deleted = store.delete(collection, [records[2].key, missing, records[4].key])
    assert deleted == [records[2].key, records[4].key]
    assert store.delete(collection, [records[2].key]) == []
    assert store.count(collection) == 3
    assert store.get(collection, [records[2].key, records[4].key]) == []


def test_delete_by_filter_returns_exactly_the_matching_keys(store: Store, collection: str):
    records = make_records(300)
    store.upsert(collection, records)
    pick = random.Random(7)
    remaining = list(records)
    for _ in range(6):
        filter = random_filter(pick, records)
        expected = {r.key for r in remaining if matches(filter, r)}
        deleted = store.delete_by_filter(collection, filter)
        assert len(deleted) == len(expected) and set(deleted) == expected, filter
        remaining = [r for r in remaining if r.key not in expected]
        assert store.count(collection) == len(remaining)


def test_delete_every_picture_of_a_product(store: Store, collection: str):
    records = make_records(12)
    store.upsert(collection, records)
    product = records[1].product_id
    expected = {r.key for r in records if r.product_id == product}

    assert set(store.delete_by_filter(collection, Compare("product_id", "=", product))) == expected
    assert store.count(collection, Compare("product_id", "=", product)) == 0


def test_count_with_and_without_filter(store: Store, collection: str):
    assert store.count(collection) == 0
    records = make_records(200)
    store.upsert(collection, records)
    assert store.count(collection) == 200
    pick = random.Random(3)
    for _ in range(50):
        filter = random_filter(pick, records)
        assert store.count(collection, filter) == sum(matches(filter, r) for r in records), filter


def test_rejects_a_vector_of_the_wrong_size(store: Store, collection: str):
    (record,) = make_records(1, dim=DIM + 1)
    with pytest.raises(ValueError):
        store.upsert(collection, [record])
    with pytest.raises(ValueError):
        store.search(collection, np.ones(DIM + 1, dtype=np.float32), limit=1)


# -- collections ---------------------------------------------------------------------------------------------


def test_ensure_collection_is_idempotent_and_checks_the_dimension(store: Store, collection: str):
    store.upsert(collection, make_records(3))
    store.ensure_collection(collection, DIM)
    assert store.count(collection) == 3
    with pytest.raises(ValueError):
        store.ensure_collection(collection, DIM * 2)


def test_collections_are_separate_and_drop_removes_one(store: Store, collection: str):
    store.ensure_collection("other", DIM)
    store.upsert(collection, make_records(3))
    store.upsert("other", make_records(2))
    assert (store.count(collection), store.count("other")) == (3, 2)

    store.drop_collection("other")
    store.ensure_collection("other", 8)
    assert store.count("other") == 0
    assert store.count(collection) == 3
    store.drop_collection("never-created")  # nothing to do


# -- search --------------------------------------------------------------------------------------------------


@pytest.fixture
def corpus(store: Store, collection: str) -> list[Image]:
    records = make_records(2000, seed=11)
    for start in range(0, len(records), 500):
        store.upsert(collection, records[start : start + 500])
    return records


def test_search_ranks_like_brute_force_with_cosine_scores(store: Store, collection: str, corpus: list[Image]):
    for query in unit(np.random.default_rng(5), 10):
        hits = store.search(collection, query, limit=25)
        assert_same_ranking(hits, brute_force(corpus, query)[:25])
    (top,) = store.search(collection, corpus[17].vector, limit=1)
    assert top.image == corpus[17] and top.score == pytest.approx(1.0, abs=1e-5)


def test_offset_pages_are_slices_of_the_full_ranking(store: Store, collection: str, corpus: list[Image]):
    query = unit(np.random.default_rng(6), 1)[0]
    window = store.capabilities.max_window
    assert window >= 500
    full = store.search(collection, query, limit=700)
    assert_same_ranking(full, brute_force(corpus, query)[:700])
    for offset, limit in [(0, 10), (10, 10), (95, 7), (499, 100), (590, 50)]:
        page = store.search(collection, query, limit=limit, offset=offset)
        assert [h.image.key for h in page] == [h.image.key for h in full[offset : offset + limit]]
    assert store.search(collection, query, limit=10, offset=5000) == []


def test_filtered_search_is_exact(store: Store, collection: str, corpus: list[Image]):
    pick = random.Random(1)
    queries = unit(np.random.default_rng(2), 200)
    for query in queries:
        filter = random_filter(pick, corpus)
        expected = brute_force(corpus, query, filter)
        assert_same_ranking(store.search(collection, query, limit=10, filter=filter), expected[:10])
        assert store.count(collection, filter) == len(expected), filter


def test_a_selective_filter_finds_every_match(store: Store, collection: str, corpus: list[Image]):
    filter = Compare("product_id", "=", corpus[41].product_id)  # three pictures out of 2000
    query = unit(np.random.default_rng(3), 1)[0]
    hits = store.search(collection, query, limit=10, filter=filter)
    assert_same_ranking(hits, brute_force(corpus, query, filter))
    assert len(hits) == 3


def test_search_of_an_empty_collection(store: Store, collection: str):
    assert store.search(collection, unit(np.random.default_rng(0), 1)[0], limit=10) == []


# -- filter semantics, case by case --------------------------------------------------------------------------

EDGE_FILTERS = {
    "not equal to the empty string": Compare("str_attr", "!=", ""),
    "equal to the empty string": Compare("str_attr", "=", ""),
    "unicode value": Compare("str_attr2", "=", "中文"),
    "not equal on an int": Compare("int_attr", "!=", 0),
    "negative range": Compare("int_attr2", "<", -1),
    "bound beyond a float's exact integers": Compare("int_attr", "<", 2**53 + 1),
    "lowest int64": Compare("int_attr", ">", -(2**63)),
    "in": In("int_attr3", (1, -3, 99)),
    "not in": In("str_attr4", ("a", "é"), negated=True),
    "empty in matches nothing": In("int_attr", ()),
    "empty not in matches everything": In("str_attr", (), negated=True),
    "empty and matches everything": And(()),
    "empty or matches nothing": Or(()),
    "not of an empty or": Not(Or(())),
    "or of ands": Or(
        (And((Compare("int_attr", ">", 0), Compare("str_attr", "=", "a"))), Compare("int_attr2", "=", 3))
    ),
    "not of an or": Not(Or((Compare("int_attr", "=", 1), In("str_attr", ("b",))))),
    "not of a not": Not(Not(Compare("category_id", ">=", 3))),
    "and with a not in": And((In("category_id", (0, 1), negated=True), Compare("int_attr4", "<=", 2))),
    "product and picture": And((Compare("product_id", "=", "商品0"), Compare("pic_name", "=", "0.jpg"))),
}


@pytest.mark.parametrize("filter", EDGE_FILTERS.values(), ids=EDGE_FILTERS.keys())
def test_filter_agrees_with_matches(store: Store, collection: str, filter: Filter):
    records = make_records(120, seed=4)
    store.upsert(collection, records)
    expected = {r.key for r in records if matches(filter, r)}
    assert store.count(collection, filter) == len(expected)
    found, cursor = store.scroll(collection, filter=filter, limit=500)
    assert cursor is None and set(keys(found)) == expected
    query = records[0].vector
    assert {h.image.key for h in store.search(collection, query, limit=200, filter=filter)} == expected


@pytest.mark.parametrize(
    "filter",
    [
        Compare("str_attr", ">", "a"),  # ordering applies to int fields only
        Compare("int_attr", "=", "1"),  # the value's type must be the field's
        Compare("int_attr", "=", True),
        In("str_attr", (1,)),
        Compare("no_such_field", "=", 1),
    ],
)
def test_rejects_filters_outside_the_contract(store: Store, collection: str, filter: Filter):
    with pytest.raises(ValueError):
        store.count(collection, filter)


# -- consistency ---------------------------------------------------------------------------------------------


def test_reads_see_writes_at_once(store: Store, collection: str):
    store.upsert(collection, make_records(50, seed=1))
    for record in make_records(20, seed=2):
        record.product_id = "new-" + record.product_id
        store.upsert(collection, [record])
        (hit,) = store.search(collection, record.vector, limit=1)
        assert hit.image.key == record.key
        assert store.get(collection, [record.key]) == [record]
        assert store.count(collection, Compare("product_id", "=", record.product_id)) == 1

        assert store.delete(collection, [record.key]) == [record.key]
        assert store.search(collection, record.vector, limit=1)[0].image.key != record.key
        assert store.get(collection, [record.key]) == []


def test_scroll_visits_every_record_once(store: Store, collection: str):
    records = make_records(103)
    store.upsert(collection, records)
    seen: list[Image] = []
    cursor = None
    while True:
        page, cursor = store.scroll(collection, limit=10, cursor=cursor, with_vectors=True)
        assert len(page) <= 10
        seen.extend(page)
        if cursor is None:
            break
    assert sorted(keys(seen), key=str) == sorted(keys(records), key=str)
    by_key = {r.key: r for r in records}
    for record in seen:
        assert record == by_key[record.key]
        np.testing.assert_allclose(record.vector, by_key[record.key].vector, atol=1e-6)


def test_scroll_with_a_filter(store: Store, collection: str):
    records = make_records(103)
    store.upsert(collection, records)
    filter = Compare("int_attr", ">=", 0)
    seen, cursor = [], None
    while True:
        page, cursor = store.scroll(collection, filter=filter, limit=7, cursor=cursor)
        seen.extend(page)
        if cursor is None:
            break
    assert sorted(keys(seen), key=str) == sorted((r.key for r in records if matches(filter, r)), key=str)


def test_data_survives_close_and_reopen(store: Store, collection: str, reopen: Callable[[Store], Store]):
    records = make_records(300, seed=9)
    store.upsert(collection, records)
    store.delete(collection, keys(records[:50]))
    query = records[60].vector
    before = store.search(collection, query, limit=20)

    store = reopen(store)
    store.ensure_collection(collection, DIM)
    assert store.count(collection) == 250
    assert store.get(collection, keys(records[50:53])) == records[50:53]
    assert store.get(collection, keys(records[:3])) == []
    assert [(h.image, h.score) for h in store.search(collection, query, limit=20)] == [
        (h.image, h.score) for h in before
    ]


def test_concurrent_writers_and_readers(store: Store, collection: str):
    background = make_records(200, seed=20)
    store.upsert(collection, background)
    errors: list[BaseException] = []
    stop = threading.Event()

    def writer(worker: int) -> None:
        try:
            for i, record in enumerate(make_records(60, seed=100 + worker)):
                record.product_id = f"w{worker}-{i}"
                store.upsert(collection, [record])
                (hit,) = store.search(collection, record.vector, limit=1)  # read-your-writes, under load
                assert hit.image.key == record.key
        except BaseException as e:
            errors.append(e)

    def reader() -> None:
        rng = np.random.default_rng(0)
        try:
            while not stop.is_set():
                query = unit(rng, 1)[0]
                hits = store.search(collection, query, limit=10, filter=Compare("int_attr", ">=", 0))
                assert all(h.image.attributes.int_attr >= 0 for h in hits)
                assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
                store.count(collection)
        except BaseException as e:
            errors.append(e)

    writers = [threading.Thread(target=writer, args=(w,)) for w in range(4)]
    readers = [threading.Thread(target=reader) for _ in range(2)]
    for thread in writers + readers:
        thread.start()
    for thread in writers:
        thread.join()
    stop.set()
    for thread in readers:
        thread.join()

    assert not errors, errors
    assert store.count(collection) == 200 + 4 * 60
