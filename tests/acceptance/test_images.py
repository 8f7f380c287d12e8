"""The official SDK adds, finds and deletes images, in both of its signature modes."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from tests.acceptance.conftest import create_instance
from tests.acceptance.sdk import add, delete, found, search_name, search_pic
from tests.conftest import jpeg, photo_image

CATALOG = ("astronaut", "chelsea", "coffee", "rocket", "motorcycle", "hubble")


def shopper_copy(name: str) -> bytes:
    """The same photo as a shopper's phone might send it again: smaller and recompressed."""
    image = photo_image(name)
    return jpeg(image.resize((image.width * 7 // 10, image.height * 7 // 10)), quality=60)


@pytest.fixture
def catalog(client, instance, photos) -> str:
    for i, name in enumerate(CATALOG):
        add(client, instance, f"p-{name}", f"{name}.jpg", photos[name], int_attr=i, str_attr=name)
    return instance


def test_a_photo_finds_itself_first_with_score_one(client, catalog, photos):
    for name in CATALOG:
        body = search_pic(client, catalog, photos[name])
        assert found(body)[0] == (f"p-{name}", f"{name}.jpg")
        assert body.auctions[0].score == pytest.approx(1.0, abs=1e-4)
        assert all(0.0 <= a.score <= 1.0 for a in body.auctions)
        assert [a.score for a in body.auctions] == sorted((a.score for a in body.auctions), reverse=True)


def test_a_recompressed_smaller_copy_finds_its_original(client, catalog):
    for name in CATALOG:
        body = search_pic(client, catalog, shopper_copy(name))
        assert found(body)[0] == (f"p-{name}", f"{name}.jpg")
        assert body.auctions[0].score > body.auctions[1].score


def test_search_by_name_uses_the_stored_image(client, catalog):
    body = search_name(client, catalog, "p-coffee", "coffee.jpg")
    assert found(body)[0] == ("p-coffee", "coffee.jpg")
    assert body.auctions[0].score == pytest.approx(1.0, abs=1e-4)
    assert len(body.auctions) == len(CATALOG)


def test_results_carry_what_was_stored(client, instance, photos):
    attributes = {"int_attr": -2, "int_attr_2": 2, "int_attr_3": 3, "int_attr_4": 2**31 - 1}
    attributes |= {"str_attr": "x y", "str_attr_2": "中文", "str_attr_3": "c/d", "str_attr_4": ""}
    add(client, instance, "p1", "a.jpg", photos["chelsea"], custom_content="a cat, 中文", **attributes)
    (hit,) = search_pic(client, instance, photos["chelsea"]).auctions
    assert (hit.product_id, hit.pic_name, hit.custom_content) == ("p1", "a.jpg", "a cat, 中文")
    assert (hit.int_attr, hit.int_attr_2, hit.int_attr_3, hit.int_attr_4) == (-2, 2, 3, 2**31 - 1)
    assert (hit.str_attr, hit.str_attr_2, hit.str_attr_3, hit.str_attr_4) == ("x y", "中文", "c/d", "")
    relevance, distance = hit.sort_expr_values.split(";")
    assert float(relevance) == pytest.approx(hit.score) and float(distance) == pytest.approx(0.0, abs=1e-2)


def test_search_reports_what_it_saw(client, catalog, photos):
    body = search_pic(client, catalog, photos["rocket"])
    width, height = Image.open(io.BytesIO(photos["rocket"])).size
    x1, x2, y1, y2 = map(int, body.pic_info.region.split(","))
    assert 0 <= x1 < x2 <= width and 0 <= y1 < y2 <= height
    assert body.pic_info.multi_region[0].region == body.pic_info.region
    assert {c.id for c in body.pic_info.all_categories} == {
        0,
        1,
        2,
        3,
        4,
        5,
        6,
        7,
        8,
        9,
        20,
        21,
        22,
        88888888,
    }
    assert body.head.docs_found == len(body.auctions) == len(CATALOG)
    assert body.head.docs_return == len(CATALOG)
    assert body.head.search_time >= 0
    assert body.success is True and body.code == 0


def test_the_same_product_and_name_overwrites(client, instance, photos):
    add(client, instance, "p1", "a.jpg", photos["coffee"], int_attr=1)
    add(client, instance, "p1", "a.jpg", photos["rocket"], int_attr=2)
    body = search_pic(client, instance, photos["rocket"])
    assert found(body) == [("p1", "a.jpg")]
    assert body.auctions[0].int_attr == 2
    assert body.auctions[0].score == pytest.approx(1.0, abs=1e-4)


def test_filters_restrict_the_results(client, catalog, photos):
    # int_attr is the catalog position (0..5), str_attr the photo's name
    cases = {
        "int_attr>=3": {3, 4, 5},
        'int_attr<2 OR str_attr="hubble"': {0, 1, 5},
        'int_attr in (1, 2) AND str_attr != "coffee"': {1},
        "(int_attr=0 OR int_attr=4) AND int_attr not in (4)": {0},
        'str_attr="nothing"': set(),
    }
    for expression, positions in cases.items():
        body = search_pic(client, catalog, photos["astronaut"], filter=expression)
        assert {a.int_attr for a in body.auctions} == positions, expression
        assert body.head.docs_return == len(positions)


def test_pages_are_slices_of_one_ranking(client, catalog, photos):
    everything = found(search_pic(client, catalog, photos["coffee"], num=6))
    pages = [found(search_pic(client, catalog, photos["coffee"], num=2, start=s)) for s in (0, 2, 4, 6)]
    assert pages[0] + pages[1] + pages[2] == everything
    assert pages[3] == []


def test_distinct_product_id_keeps_the_best_image_of_each_product(client, instance, photos):
    for i, name in enumerate(("chelsea", "coffee", "rocket")):
        add(client, instance, "many", f"{i}.jpg", photos[name])
    add(client, instance, "single", "s.jpg", photos["astronaut"])
    plain = found(search_pic(client, instance, photos["coffee"]))
    assert [p for p, _ in plain].count("many") == 3
    distinct = found(search_pic(client, instance, photos["coffee"], distinct_product_id=True))
    assert distinct == [("many", "1.jpg"), ("single", "s.jpg")]


def test_score_threshold_drops_weaker_results(client, catalog, photos):
    body = search_pic(client, catalog, photos["chelsea"], score_threshold="0.99")
    assert found(body) == [("p-chelsea", "chelsea.jpg")]
    loose = search_pic(client, catalog, photos["chelsea"], score_threshold="0.3")
    assert all(a.score >= 0.3 for a in loose.auctions)


def test_a_given_region_is_used_and_reported(client, instance, photos):
    body = add(client, instance, "p1", "a.jpg", photos["astronaut"], region="100,300,50,250")
    assert body.pic_info.region == "100,300,50,250"
    # a region reaching past the picture is clipped to it
    body = search_pic(client, instance, photos["astronaut"], region="400,9999,0,9999", crop=False)
    assert body.pic_info.region == "400,512,0,512"


def test_crop_false_uses_the_whole_picture(client, instance, photos):
    body = add(client, instance, "p1", "a.jpg", photos["coffee"], crop=False)
    width, height = Image.open(io.BytesIO(photos["coffee"])).size
    assert body.pic_info.region == f"0,{width},0,{height}"


def test_a_given_category_is_kept_and_searched_within(client, instance, photos):
    assert add(client, instance, "bag", "1.jpg", photos["coffee"], category_id=3).pic_info.category_id == 3
    add(client, instance, "toy", "1.jpg", photos["coffee"], category_id=20)
    body = search_pic(client, instance, photos["coffee"], category_id=3)
    assert body.pic_info.category_id == 3
    assert found(body) == [("bag", "1.jpg")]
    assert {a.category_id for a in search_pic(client, instance, photos["coffee"]).auctions} == {3, 20}


def test_generic_instances_answer_other(client, server, photos):
    generic = create_instance(server.data_dir, "--type", "generic")
    body = add(client, generic, "p1", "a.jpg", photos["coffee"], category_id=3)
    assert body.pic_info.category_id == 88888888
    body = search_pic(client, generic, photos["coffee"])
    assert body.auctions[0].category_id == 88888888
    assert [(c.id, c.name) for c in body.pic_info.all_categories] == [(88888888, "Other")]


def test_delete_one_image(client, catalog, photos):
    body = delete(client, catalog, product_id="p-coffee", pic_name="coffee.jpg")
    assert body.data.pic_names == ["coffee.jpg"]
    assert ("p-coffee", "coffee.jpg") not in found(search_pic(client, catalog, photos["coffee"]))
    assert delete(client, catalog, product_id="p-coffee", pic_name="coffee.jpg").data.pic_names == []


def test_delete_every_image_of_a_product(client, instance, photos):
    for name in ("a.jpg", "b.jpg"):
        add(client, instance, "p1", name, photos["coffee"])
    add(client, instance, "p2", "c.jpg", photos["coffee"])
    assert sorted(delete(client, instance, product_id="p1").data.pic_names) == ["a.jpg", "b.jpg"]
    assert found(search_pic(client, instance, photos["coffee"])) == [("p2", "c.jpg")]


def test_delete_by_filter(client, catalog, photos):
    body = delete(client, catalog, is_delete_by_filter=True, filter="int_attr>=4")
    assert sorted(body.data.pic_names) == ["hubble.jpg", "motorcycle.jpg"]
    assert {a.int_attr for a in search_pic(client, catalog, photos["coffee"]).auctions} == {0, 1, 2, 3}
