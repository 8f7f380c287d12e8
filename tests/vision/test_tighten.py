"""A subject's loose box drawn in to the object it holds."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from lookalike.domain.image import Box
from lookalike.vision.pipeline import Vision, square
from lookalike.vision.subjects import crop
from lookalike.vision.tighten import tightened
from tests.conftest import jpeg, photo_image, place, plain

PRODUCTS = ("coffee", "rocket", "chelsea", "astronaut", "motorcycle")
GROUNDS = ("grass", "gravel", "brick")


def widened(box: Box, share: float, width: int, height: int) -> Box:
    """`box` widened by `share` of its size on each side, within the picture."""
    dx, dy = round(share * box.width), round(share * box.height)
    loose = Box(box.x1 - dx, box.x2 + dx, box.y1 - dy, box.y2 + dy).clip(width, height)
    assert loose is not None
    return loose


@pytest.mark.parametrize("ground", GROUNDS)
def test_a_loose_box_is_drawn_in_to_its_product(ground):
    for name in PRODUCTS:
        picture, box = place(photo_image(ground), photo_image(name), at=(150, 120), width=180, angle=12)
        loose = widened(box, 0.25, *picture.size)
        inner = tightened(picture, loose)
        assert inner is not None, name
        assert inner.iou(box) > loose.iou(box) + 0.15, (name, inner, box)


@pytest.mark.parametrize("ground", GROUNDS)
def test_a_box_tight_around_its_product_is_left_as_it_is(ground):
    # (Not the coffee photo: its cup stands on a plain ground of its own, which is drawn off.)
    for name in ("rocket", "chelsea", "astronaut"):
        picture, box = place(photo_image(ground), photo_image(name), at=(150, 120), width=180)
        assert tightened(picture, box) is None, name


def test_a_box_with_no_background_around_it_is_left_as_it_is():
    picture = photo_image("coffee")
    assert tightened(picture, Box(0, picture.width, 0, picture.height)) is None


def test_a_flat_box_is_left_as_it_is():
    assert tightened(plain((300, 200), (90, 120, 200)), Box(50, 250, 40, 160)) is None


def test_a_box_is_drawn_in_the_same_way_whatever_the_thread_drew_at_random_before():
    """GrabCut's k-means starts from the thread's random generator: unseeded, this box was drawn in five
    different ways over these states of it."""
    picture, box = place(photo_image("gravel"), photo_image("chelsea"), at=(150, 120), width=180)
    loose = widened(box, 0.25, *picture.size)
    drawn = set()
    for seed in range(0, 200, 7):
        cv2.setRNGSeed(seed)  # what another call of OpenCV's in the same thread may leave behind
        drawn.add(tightened(picture, loose))
    assert len(drawn) == 1 and None not in drawn


def test_a_sight_describes_a_view_s_box_drawn_in(embedder):
    picture, box = place(photo_image("brick"), photo_image("rocket"), at=(150, 120), width=180)
    sight = Vision(embedder).see(jpeg(picture))
    image = sight.picture.image
    assert image.size == (sight.picture.width, sight.picture.height)  # nothing to scale
    (loose,) = Vision(embedder).describe(sight.picture, [widened(box, 0.25, *image.size)])
    view = sight.tightened(loose)
    assert view is not None and not view.screened
    assert view.region == tightened(image, loose.region)
    np.testing.assert_allclose(view.vector, embedder.embed([square(crop(image, view.region))])[0], atol=1e-5)
