"""The plain-background subject trim, on real photos pasted onto canvases and on full-frame photos."""

from __future__ import annotations

import io
import time

import pytest
from PIL import Image

from lookalike.vision.subjects import Box, crop, find_subject, whole
from tests.vision.conftest import PHOTOS


def iou(a: Box, b: Box) -> float:
    inter = max(0, min(a.x2, b.x2) - max(a.x1, b.x1)) * max(0, min(a.y2, b.y2) - max(a.y1, b.y1))
    return inter / (a.width * a.height + b.width * b.height - inter)


def pasted(photo: Image.Image, canvas: tuple[int, int], at: tuple[int, int], colour=(255, 255, 255)):
    image = Image.new("RGB", canvas, colour)
    image.paste(photo, at)
    return image, Box(at[0], at[0] + photo.width, at[1], at[1] + photo.height)


def test_box_geometry():
    box = Box(10, 50, 20, 30)
    assert (box.width, box.height) == (40, 10)
    assert box.clip(100, 100) == box
    assert Box(-5, 50, 90, 130).clip(40, 100) == Box(0, 40, 90, 100)
    assert Box(120, 150, 0, 10).clip(100, 100) is None
    assert Box(10, 10, 0, 10).clip(100, 100) is None


def test_whole_and_crop(photo):
    image = photo("chelsea.png")
    assert whole(image) == Box(0, 451, 0, 300)
    part = crop(image, Box(100, 300, 50, 250))
    assert part.size == (200, 200)
    assert part.getpixel((0, 0)) == image.getpixel((100, 50))
    assert crop(image, Box(400, 900, -10, 100)).size == (51, 100)  # clipped to the image
    with pytest.raises(ValueError):
        crop(image, Box(500, 600, 0, 10))


@pytest.mark.parametrize("name", PHOTOS)
def test_photo_on_white_canvas_is_found(photo, name):
    subject = photo(name)
    subject = subject.resize(
        (subject.width * 400 // max(subject.size), subject.height * 400 // max(subject.size))
    )
    image, truth = pasted(subject, (900, 700), (310, 170))
    box = find_subject(image)
    assert iou(box, truth) >= 0.8, (box, truth)


@pytest.mark.parametrize(
    "canvas,at,colour",
    [
        ((1000, 800), (60, 500), (255, 255, 255)),  # low left, near the edges
        ((800, 800), (200, 480), (255, 255, 255)),  # touching the bottom edge
        ((900, 700), (250, 150), (232, 232, 228)),  # light grey studio backdrop
        ((900, 700), (250, 150), (18, 18, 20)),  # black backdrop
    ],
)
def test_other_placements_and_backdrops(photo, canvas, at, colour):
    image, truth = pasted(photo("coffee.png").resize((450, 300)), canvas, at, colour)
    assert iou(find_subject(image), truth.clip(*canvas)) >= 0.8


def test_survives_jpeg_noise(photo):
    image, truth = pasted(photo("rocket.jpg").resize((480, 320)), (1000, 900), (400, 300))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=50)
    assert iou(find_subject(Image.open(out).convert("RGB")), truth) >= 0.8


@pytest.mark.parametrize("name", PHOTOS)
def test_full_frame_photo_gives_nearly_the_whole_image(photo, name):
    image = photo(name)
    box = find_subject(image)
    assert box.width * box.height >= 0.9 * image.width * image.height


def test_blank_or_tiny_subject_gives_the_whole_image(photo):
    blank = Image.new("RGB", (600, 400), "white")
    assert find_subject(blank) == whole(blank)
    speck, _ = pasted(photo("chelsea.png").resize((60, 40)), (1000, 800), (500, 400))
    assert find_subject(speck) == whole(speck)


def test_fast_on_an_800px_photo(photo):
    image, _ = pasted(photo("astronaut.png"), (800, 800), (150, 140))
    find_subject(image)
    started = time.perf_counter()
    for _ in range(10):
        find_subject(image)
    assert (time.perf_counter() - started) / 10 < 0.05  # a few ms normally; generous for a busy CI box
