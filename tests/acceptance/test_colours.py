"""A product sold in several colours, through the official SDK: a shopper's photo of one colour finds that
colour first. Its global vector names the product whatever its colour, and its local features (ORB sees
grey) match every colour alike; the colours kept beside each image tell them apart."""

from __future__ import annotations

import pytest
from PIL import Image, ImageFilter

from tests.acceptance.sdk import add, found, search_pic
from tests.conftest import jpeg, photo_image, place, plain

PRODUCTS = ("coffee", "rocket", "chelsea", "astronaut")
ORDERS = ("rgb", "brg", "gbr", "bgr")  # each colour variant: the photo's channels in another order


def variant(name: str, order: str) -> Image.Image:
    channels = dict(zip("rgb", photo_image(name).split(), strict=True))
    return Image.merge("RGB", [channels[c] for c in order])


@pytest.fixture
def catalog(client, instance) -> str:
    for name in PRODUCTS:
        for order in ORDERS:
            shot, _ = place(plain((900, 700)), variant(name, order), at=(180, 140), width=540)
            add(client, instance, f"{name}-{order}", "shot.jpg", jpeg(shot))
    return instance


# Photos that 5e79753, which kept no colours, answered with another colour of the product: every colour
# matched alike, and another had a few more matches or stood higher in the ranking.
@pytest.mark.parametrize(
    ("name", "order", "ground"),
    [
        ("coffee", "gbr", "grass"),
        ("rocket", "brg", "gravel"),
        ("rocket", "bgr", "gravel"),
        ("chelsea", "bgr", "grass"),
        ("astronaut", "rgb", "brick"),
        ("astronaut", "bgr", "gravel"),
    ],
)
def test_a_shopper_s_photo_finds_the_colour_it_shows(client, catalog, name, order, ground):
    ground_photo = photo_image(ground).resize((900, 700))
    product = variant(name, order).filter(ImageFilter.GaussianBlur(1.5))  # a phone's soft focus
    picture, _ = place(ground_photo, product, at=(250, 200), width=260, angle=10)
    body = search_pic(client, catalog, jpeg(picture, quality=60), num=4)
    assert found(body)[0] == (f"{name}-{order}", "shot.jpg")
