"""Where a default search lost the product: the places told apart, and the watch on the service's choice
changing nothing it answers."""

from __future__ import annotations

from pathlib import Path

import pytest
from bench.quality.misses import write_misses
from bench.quality.probes import PLACES, as_rows, place, record, table
from PIL import Image

from lookalike.domain.image import Box
from lookalike.service import images
from tests.bench.test_quality_runs import small_dataset

BOX = Box(100, 200, 100, 200)
ON_IT = [100, 200, 110, 200]  # IoU 0.9 with BOX
BESIDE = [300, 400, 100, 200]


def probe(region: list[int], *products: str) -> dict:
    return {"region": region, "nearest": [[product, 0.6] for product in products]}


@pytest.mark.parametrize(
    ("products", "probes", "expected"),
    [
        (["t", "a"], [probe(BESIDE, "a")], "first"),
        (["a", "b", "t"], [probe(BESIDE, "a")], "first five"),
        (["a"], [probe(BESIDE, "a"), probe(ON_IT, "t", "a")], "a subject's nearest"),
        (["a"], [probe(BESIDE, "a", "t")], "a subject's ten"),
        (["a"], [probe(BESIDE, "a"), probe(ON_IT, "b")], "boxed, not near"),
        (["a"], [probe(BESIDE, "a")], "not boxed"),
        ([], [], "not boxed"),
    ],
)
def test_a_search_puts_the_product_in_one_place(products: list[str], probes: list[dict], expected: str):
    assert place("t", products, probes, BOX) == expected


def test_a_product_past_the_first_five_counts_by_the_probes():
    assert place("t", ["a", "b", "c", "d", "e", "t"], [probe(BESIDE, "t")], BOX) == "a subject's nearest"


def test_the_places_are_counted_by_kind_and_size():
    records = [
        {"kind": "scene", "share": 0.02, "place": "first"},
        {"kind": "scene", "share": 0.30, "place": "not boxed"},
    ]
    lines = table(records)
    assert lines[0] == "| queries | size | n | " + " | ".join(PLACES) + " |"
    assert "| scene | <5 % | 1 | 1 | 0 | 0 | 0 | 0 | 0 |" in lines
    assert "| scene | all | 2 | 1 | 0 | 0 | 0 | 0 | 1 |" in lines
    assert not any("viewpoint" in line for line in lines)


def test_each_search_is_recorded_with_the_subjects_it_probed_and_the_service_is_left_as_it_was(
    tmp_path: Path,
):
    choose = images.best_subject
    data = small_dataset()
    records = record(data)
    assert images.best_subject is choose
    assert [r["kind"] for r in records] == ["scene"] * 4  # the near-duplicates are not searched
    for r in records:
        assert r["place"] in PLACES
        assert r["probes"], "a default search always probes its first subject"
        chosen = r["probes"][0]
        assert len(chosen["region"]) == 4 and len(chosen["nearest"]) <= 10
        cosines = [score for _, score in chosen["nearest"]]
        assert cosines == sorted(cosines, reverse=True)
        assert (r["place"] == "first") == (r["products"][:1] == [r["target"]])
    # Each miss is drawn with the subjects probed: one made a miss here (its product put second).
    other = next(r["target"] for r in records if r["target"] != records[0]["target"])
    records[0] |= {"products": [other, records[0]["target"]], "place": "first five"}
    missed = [r for r in records if r["place"] != "first"]
    assert write_misses(data, as_rows(records), tmp_path) == len(missed) >= 1
    (drawn,) = [p for p in tmp_path.rglob("*.jpg") if records[0]["target"].split("/")[-1] in p.name]
    assert Image.open(drawn).size[1] > 0
