"""Local features and geometric verification on real photos: the same product found under rotation, scale and
perspective wherever it lies, and its stored box carried into the query; another product not found."""

from __future__ import annotations

import io
import struct

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw

from lookalike.domain.image import Box
from lookalike.vision.decode import Reduced, decode_reduced
from lookalike.vision.local import (
    MIN_INLIERS,
    QUERY_POINTS,
    STORED_POINTS,
    STORED_SIDE,
    Features,
    extract,
    extract_enlarged,
    verify,
)
from tests.conftest import jpeg, photo_image, place, plain


def catalog_shot(name: str) -> tuple[bytes, Box]:
    picture, truth = place(plain((900, 700)), photo_image(name), at=(180, 140), width=540)
    return jpeg(picture), truth


def stored(name: str) -> tuple[Features, Box]:
    data, truth = catalog_shot(name)
    return extract(decode_reduced(data), STORED_POINTS, truth), truth


def in_perspective(image: Image.Image) -> Image.Image:
    """The picture seen from the side: its right edge pushed back."""
    w, h = image.size
    source = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    target = np.float32([[0, 0], [w * 0.9, h * 0.08], [w * 0.9, h * 0.92], [0, h]])
    rgba = np.asarray(image.convert("RGBA"))
    warped = cv2.warpPerspective(rgba, cv2.getPerspectiveTransform(source, target), (w, h))
    return Image.fromarray(warped, "RGBA")


def shopper_photo(name: str, width: int, at: tuple[int, int], angle: float) -> tuple[bytes, Box]:
    product = in_perspective(photo_image(name))
    picture, truth = place(photo_image("gravel").resize((1000, 750)), product, at, width, angle)
    return jpeg(picture, quality=70), truth


@pytest.mark.parametrize(("width", "angle"), [(500, 12), (220, -18)])
def test_a_stored_product_is_found_in_a_shoppers_photo_and_where(width, angle):
    features, box = stored("coffee")
    data, truth = shopper_photo("coffee", width, (400, 180), angle)
    query = decode_reduced(data)
    match = verify(extract(query, QUERY_POINTS), features, box, query.width, query.height)
    assert match is not None and match.inliers >= MIN_INLIERS
    assert match.region.iou(truth) >= 0.7  # the box of a turned product is looser than the product's own


@pytest.mark.parametrize("scale", [1.0, 2.4])
def test_a_small_product_is_found_whatever_size_its_shot_was_uploaded_at(scale):
    """A shop's bigger file of the same shot is looked at as a catalog shot's size (STORED_SIDE): the
    product 200 px wide in a shopper's photo is found in either. At the file's own size (up to SIDE), the
    shot 2.4 times bigger left no match at the scales ORB compares."""
    at, size, width = (round(60 * scale), round(60 * scale)), (round(600 * scale), round(480 * scale)), 480
    picture, truth = place(plain(size), photo_image("motorcycle"), at=at, width=round(width * scale))
    features = extract(decode_reduced(jpeg(picture)), STORED_POINTS, truth, STORED_SIDE)
    data, _ = shopper_photo("motorcycle", 200, (400, 180), 10)
    query = decode_reduced(data)
    match = verify(extract(query, QUERY_POINTS), features, truth, query.width, query.height)
    assert match is not None and match.inliers >= MIN_INLIERS


def disc(name: str) -> Image.Image:
    """A round product: the middle of the photo, cut out round."""
    image = photo_image(name).convert("RGBA")
    side = min(image.size)
    left, top = (image.width - side) // 2, (image.height - side) // 2
    square = image.crop((left, top, left + side, top + side))
    mask = Image.new("L", square.size, 0)
    ImageDraw.Draw(mask).ellipse((0, 0, side - 1, side - 1), fill=255)
    square.putalpha(mask)
    return square


def test_a_turned_product_is_bounded_by_itself_not_by_its_upright_box():
    """A round product turned by 25°: its stored box carried over bounds the turned square around it (IoU
    0.56 with the product's own box: the Region before round 10); the Region hugs the product, where its
    stored features lie."""
    picture, box = place(plain((900, 700)), disc("coffee"), at=(200, 120), width=460)
    features = extract(decode_reduced(jpeg(picture)), STORED_POINTS, box)
    photo, truth = place(photo_image("gravel").resize((1000, 750)), disc("coffee"), (380, 200), 300, 25)
    query = decode_reduced(jpeg(photo, quality=75))
    match = verify(extract(query, QUERY_POINTS), features, box, query.width, query.height)
    assert match is not None
    assert match.region.iou(truth) >= 0.8


def test_another_product_is_not_found():
    data, _ = shopper_photo("coffee", 500, (400, 180), 12)
    query = decode_reduced(data)
    seen = extract(query, QUERY_POINTS)
    for other in ("rocket", "chelsea", "astronaut"):
        assert verify(seen, *stored(other), query.width, query.height) is None


def test_features_of_a_box_lie_in_it_and_are_in_the_originals_pixels():
    """A phone-sized picture is looked at reduced, but its points are in its own pixels."""
    picture, truth = place(plain((3200, 2400)), photo_image("coffee"), at=(900, 700), width=1600)
    features, _ = extract(decode_reduced(jpeg(picture)), STORED_POINTS, truth), truth
    assert 50 <= len(features) <= STORED_POINTS
    x, y = features.points[:, 0], features.points[:, 1]
    margin = 8  # a point sits a few pixels off its corner, at the reduced scale
    assert (x >= truth.x1 - margin).all() and (x <= truth.x2 + margin).all()
    assert (y >= truth.y1 - margin).all() and (y <= truth.y2 + margin).all()
    assert x.max() - x.min() > 0.8 * truth.width  # spread over the whole product


def test_features_round_trip_through_bytes():
    features, _ = stored("rocket")
    again = Features.from_bytes(features.to_bytes())
    assert np.array_equal(again.points, features.points)
    assert np.array_equal(again.descriptors, features.descriptors)
    assert again.frame == features.frame == (900, 700)  # the catalog shot's size
    assert len(features.to_bytes()) == 16 + 40 * len(features)  # 8 bytes of points, 32 of descriptor each
    with pytest.raises(ValueError):
        Features.from_bytes(b"JUNK" + features.to_bytes()[4:])


def test_features_written_before_the_pictures_size_was_kept_are_still_read():
    features, _ = stored("rocket")
    version_1 = b"LKF1" + struct.pack("<I", len(features)) + features.to_bytes()[16:]
    again = Features.from_bytes(version_1)
    assert np.array_equal(again.points, features.points)
    assert np.array_equal(again.descriptors, features.descriptors)
    assert again.frame is None


def test_a_picture_stored_whole_is_found_whole_though_orb_leaves_its_border_bare():
    """A lawn photo stored whole: its features stop ORB's border short of the picture's edges, which are
    the stored product's edges all the same."""
    photo, _ = place(photo_image("gravel").resize((800, 600)), photo_image("astronaut"), (60, 80), 200)
    picture = decode_reduced(jpeg(photo))
    whole = Box(0, 800, 0, 600)
    features = extract(picture, STORED_POINTS, whole)
    points = features.points
    assert points[:, 0].min() > 20 and points[:, 0].max() < 780  # the bare border
    match = verify(extract(picture, QUERY_POINTS), features, whole, 800, 600)
    assert match is not None and match.region == whole


def test_a_plain_picture_has_nothing_to_match():
    blank = decode_reduced(jpeg(plain((400, 300))))
    nothing = extract(blank, QUERY_POINTS)
    assert len(nothing) == 0
    features, box = stored("coffee")
    assert verify(nothing, features, box, 400, 300) is None
    assert len(Features.from_bytes(nothing.to_bytes())) == 0


def test_a_picture_decoded_from_any_format_gives_the_same_features():
    picture, truth = catalog_shot("coffee")
    png = io.BytesIO()
    Image.open(io.BytesIO(picture)).save(png, "PNG")
    one = extract(decode_reduced(picture), STORED_POINTS, truth)
    other = extract(decode_reduced(png.getvalue()), STORED_POINTS, truth)
    assert np.array_equal(one.descriptors, other.descriptors)


def small_on_gravel(name: str, width: int = 120) -> tuple[Reduced, Box]:
    product = in_perspective(photo_image(name))
    picture, truth = place(photo_image("gravel").resize((1000, 750)), product, (400, 300), width, 12)
    return decode_reduced(jpeg(picture, quality=70)), truth


@pytest.mark.parametrize("name", ["coffee", "chelsea", "rocket"])
def test_a_small_product_missed_in_the_whole_photo_is_found_in_its_box_enlarged(name):
    """A product 120 px wide gives the whole picture's features too few matches with a catalog shot, whose
    features lie at its own, larger scale; enlarged to a catalog shot's size, its box gives plenty."""
    features, box = stored(name)
    query, truth = small_on_gravel(name)
    assert verify(extract(query, QUERY_POINTS), features, box, query.width, query.height) is None
    enlarged = extract_enlarged(query, truth)
    assert enlarged is not None
    match = verify(enlarged, features, box, query.width, query.height)
    assert match is not None and match.region == truth  # found in the box: the box is where it is
    assert enlarged.pixel is not None and enlarged.pixel < 1  # points finer than a pixel of the original


def test_another_product_is_not_found_in_an_enlarged_box():
    query, truth = small_on_gravel("coffee")
    for box in (truth, Box(100, 250, 100, 220)):  # the product's box, and a stretch of gravel
        enlarged = extract_enlarged(query, box)
        assert enlarged is not None
        for other in ("rocket", "chelsea", "astronaut"):
            assert verify(enlarged, *stored(other), query.width, query.height) is None


def test_a_box_as_big_as_a_catalog_shot_is_not_enlarged():
    query, _ = small_on_gravel("coffee")
    assert extract_enlarged(query, Box(0, 600, 0, 500)) is None
