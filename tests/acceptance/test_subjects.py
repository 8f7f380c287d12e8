"""The official SDK finds the product in a shopper's photo: Crop, Region, MultiRegion and the category.

Catalog shots are real photos on white; the shopper's photos lay them, turned and recompressed, on real
photographs of gravel, grass and brick.
"""

from __future__ import annotations

import io

import pytest
from PIL import Image

from lookalike.domain.image import Box
from tests.acceptance.sdk import add, found, search_pic
from tests.conftest import jpeg, photo_image, place, plain

PRODUCTS = ("coffee", "rocket", "chelsea", "motorcycle")
OTHER = 88888888


def box(region: str) -> Box:
    return Box(*map(int, region.split(",")))


def region(box: Box) -> str:
    return f"{box.x1},{box.x2},{box.y1},{box.y2}"


def catalog_shot(name: str) -> tuple[bytes, Box]:
    picture, truth = place(plain((900, 700)), photo_image(name), at=(180, 140), width=540)
    return jpeg(picture), truth


def ground(name: str):
    return photo_image(name).resize((800, 600))


@pytest.fixture
def catalog(client, instance) -> str:
    for name in PRODUCTS:
        add(client, instance, name, "shot.jpg", catalog_shot(name)[0])
    return instance


def test_a_product_shot_on_a_plain_background_is_indexed_by_the_product(client, instance):
    shot, truth = catalog_shot("chelsea")
    info = add(client, instance, "cat", "shot.jpg", shot).pic_info
    assert box(info.region).iou(truth) >= 0.85
    assert [box(r.region) for r in info.multi_region] == [box(info.region)]


def test_a_shops_photo_of_its_product_in_a_room_is_stored_by_the_product_and_found_by_copies(
    client, instance
):
    """The add stores the product, not the room around it; the photo itself, and a copy resized to half
    and recompressed, find it first and score as the picture they are, though a search looks at the
    photo its own way."""
    room, truth = place(photo_image("coffee").resize((900, 600)), photo_image("chelsea"), (300, 250), 300)
    info = add(client, instance, "cat", "room.jpg", jpeg(room)).pic_info
    assert box(info.region).iou(truth) >= 0.8
    for copy in (room, room.resize((450, 300))):
        body = search_pic(client, instance, jpeg(copy, quality=70))
        assert found(body)[0] == ("cat", "room.jpg") and body.auctions[0].score >= 0.9


@pytest.mark.parametrize("surface", ["gravel", "grass", "brick"])
def test_a_product_laid_on_cluttered_ground_finds_its_catalog_shot(client, catalog, surface):
    picture, truth = place(ground(surface), photo_image("coffee"), at=(230, 140), width=400, angle=9)
    body = search_pic(client, catalog, jpeg(picture, quality=70), num=4)
    assert found(body)[0] == ("coffee", "shot.jpg")
    assert box(body.pic_info.region).iou(truth) >= 0.7
    assert body.pic_info.multi_region[0].region == body.pic_info.region


def test_a_photo_whose_subject_finds_nothing_close_is_also_searched_whole(client, catalog):
    # The shop stored a whole photo (Crop=false): a lawn with a small astronaut in a corner. The astronaut
    # alone is not close to anything stored (cosine ~0.3 to the whole lawn), so the search also ranks the
    # picture whole, which finds the photo itself at 1.0, and Region says the whole picture found it.
    photo = jpeg(place(ground("grass"), photo_image("astronaut"), at=(60, 80), width=200)[0])
    add(client, catalog, "lawn", "whole.jpg", photo, crop=False)
    body = search_pic(client, catalog, photo)
    assert (body.auctions[0].product_id, body.auctions[0].score) == ("lawn", 1.0)
    assert body.pic_info.region == "0,800,0,600"
    assert body.pic_info.multi_region[0].region == body.pic_info.region
    scores = [a.score for a in body.auctions]
    assert len(scores) == 5 and scores == sorted(scores, reverse=True) and scores[-1] >= 0.0


def test_a_given_region_wins_over_crop(client, catalog):
    picture, _ = place(ground("gravel"), photo_image("rocket"), at=(100, 100), width=400)
    for crop in (True, False):
        body = search_pic(client, catalog, jpeg(picture), region="0,300,0,200", crop=crop)
        assert body.pic_info.region == "0,300,0,200"
        assert [r.region for r in body.pic_info.multi_region] == ["0,300,0,200"]


def test_crop_false_searches_the_whole_picture(client, catalog):
    picture, _ = place(ground("gravel"), photo_image("rocket"), at=(100, 100), width=400)
    body = search_pic(client, catalog, jpeg(picture), crop=False)
    assert body.pic_info.region == "0,800,0,600"


def test_multi_region_lists_two_products_apart_and_each_can_be_searched(client, catalog):
    picture, coffee = place(ground("gravel"), photo_image("coffee"), at=(20, 40), width=300)
    picture, rocket = place(picture, photo_image("rocket"), at=(470, 300), width=300)
    data = jpeg(picture, quality=80)
    listed = [box(r.region) for r in search_pic(client, catalog, data).pic_info.multi_region]
    for product, truth in (("coffee", coffee), ("rocket", rocket)):
        subject = max(listed, key=truth.iou)
        # Measured: 0.99 and 0.77 (the rocket photo's box drawn in on its right and bottom, the cut the
        # packaged descriptor ranks closest; 0.83 with the model before fine-tuning).
        assert subject.iou(truth) >= 0.75
        assert found(search_pic(client, catalog, data, region=region(subject)))[0][0] == product


def test_a_given_category_prevails_and_an_unknown_one_is_predicted_from_the_shops_labels(client, instance):
    # The shop files the astronaut (a collectible figure, say) under Toy and the coffee under Snack: the
    # model alone would say Other for both.
    figure = catalog_shot("astronaut")[0]
    add(client, instance, "figure", "shot.jpg", figure, category_id=20)
    add(client, instance, "coffee", "shot.jpg", catalog_shot("coffee")[0], category_id=6)
    second_view = jpeg(Image.open(io.BytesIO(figure)).resize((540, 420)), quality=60)
    assert add(client, instance, "figure", "small.jpg", second_view).pic_info.category_id == 20
    assert add(client, instance, "cat", "shot.jpg", catalog_shot("chelsea")[0]).pic_info.category_id == OTHER

    body = search_pic(client, instance, second_view)
    assert body.pic_info.category_id == 20
    # A predicted category searches within itself and Other: the Snack is left out, the Other kept.
    assert {product for product, _ in found(body)} == {"figure", "cat"}
    given = search_pic(client, instance, second_view, category_id=6)
    assert given.pic_info.category_id == 6 and {p for p, _ in found(given)} == {"coffee"}
    unrelated = search_pic(client, instance, jpeg(photo_image("motorcycle")))
    assert unrelated.pic_info.category_id == OTHER
    assert {product for product, _ in found(unrelated)} == {"figure", "coffee", "cat"}
