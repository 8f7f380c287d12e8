"""A catalog subject seen as a shopper's photo sees it: smaller and softer, described beside its vector."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageFilter

from lookalike.vision.pipeline import Vision, square
from lookalike.vision.softened import SIDE, from_bytes, matched, shrunk, softened, to_bytes
from tests.conftest import jpeg, photo_image, place, plain

PRODUCTS = ("coffee", "rocket", "chelsea", "astronaut", "motorcycle")


def as_a_shopper_sees(image: Image.Image, side: int) -> Image.Image:
    """`image` `side` pixels across in a phone's photo: shrunk, a little blurred, JPEG at 60."""
    scale = side / max(image.size)
    small = image.resize((round(image.width * scale), round(image.height * scale)), Image.Resampling.BILINEAR)
    return Image.open(io.BytesIO(jpeg(small.filter(ImageFilter.GaussianBlur(0.7)), quality=60)))


def test_a_subject_is_shrunk_to_its_side_and_never_enlarged():
    wide = softened(Image.new("RGB", (400, 250), (200, 30, 30)))
    assert wide.size == (SIDE, round(250 * SIDE / 400)) and wide.mode == "RGB"
    assert softened(Image.new("RGB", (50, 80), (200, 30, 30))).size == (50, 80)


def test_a_kept_view_is_shrunk_further_to_a_small_subject_s_side_and_never_enlarged():
    kept = shrunk(Image.new("RGB", (400, 250), (200, 30, 30)))
    assert Image.open(io.BytesIO(kept)).format == "JPEG"
    assert matched(kept, 60).size == (60, round(250 * 60 / 400)) and matched(kept, 60).mode == "RGB"
    assert matched(kept, 2 * SIDE).size == (SIDE, round(250 * SIDE / 400))


@pytest.mark.parametrize("side", [60, 100])
def test_a_product_seen_small_is_closer_to_its_softened_view_than_to_its_sharp_one(embedder, side):
    # Neither the size nor the blur of the shopper's photo is the softened view's own.
    for name in PRODUCTS:
        product = photo_image(name)
        shopper = embedder.embed([square(as_a_shopper_sees(product, side))])[0]
        sharp = embedder.embed([square(product)])[0]
        soft = embedder.embed([square(softened(product))])[0]
        assert shopper @ soft > shopper @ sharp + 0.05, name


@pytest.mark.parametrize("side", [40, 70])
def test_a_product_seen_very_small_is_closer_to_its_view_at_its_size_than_to_its_softened_one(embedder, side):
    for name in PRODUCTS:
        product = photo_image(name)
        shopper = embedder.embed([square(as_a_shopper_sees(product, side))])[0]
        soft = embedder.embed([square(softened(product))])[0]
        at_size = embedder.embed([square(matched(shrunk(product), side))])[0]
        assert shopper @ at_size > shopper @ soft + 0.05, name


def test_an_add_s_sight_describes_its_subject_softened(embedder):
    picture, _ = place(plain((900, 700)), photo_image("coffee"), at=(200, 150), width=500)
    sight = Vision(embedder).see(jpeg(picture), every_subject=False)
    image = sight.picture.image
    x1, x2, y1, y2 = sight.first.region  # the decoded picture is the original: nothing to scale
    assert image.size == (sight.picture.width, sight.picture.height)
    subject = image.crop((x1, y1, x2, y2))
    vector, kept = sight.softened()
    np.testing.assert_allclose(vector, embedder.embed([square(softened(subject))])[0], atol=1e-6)
    assert kept == shrunk(subject)  # the view itself, kept beside the vector


def test_a_softened_vector_is_kept_in_half_precision_and_read_back_normalised():
    vector = np.abs(np.random.default_rng(2).normal(size=1280)).astype(np.float32)
    vector /= np.linalg.norm(vector)
    back = from_bytes(to_bytes(vector), 1280)
    assert np.allclose(back, vector, atol=1e-3) and np.linalg.norm(back) == pytest.approx(1, abs=1e-6)
    with pytest.raises(ValueError, match="1280"):
        from_bytes(to_bytes(vector[:672]), 1280)  # a detail's size: not this
