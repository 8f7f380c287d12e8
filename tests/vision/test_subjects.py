"""The plain-background subject trim and the box arithmetic, on real photos pasted onto canvases and on
full-frame photos."""

from __future__ import annotations

import io
from collections import deque

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw

from lookalike.domain.image import Box
from lookalike.vision.subjects import components, crop, find_subject, plain_subjects, tilt, turned, whole
from tests.vision.conftest import PHOTOS


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
    assert box.iou(box) == 1.0 and box.iou(Box(60, 70, 20, 30)) == 0.0
    assert Box(0, 10, 0, 10).iou(Box(5, 15, 0, 10)) == pytest.approx(50 / 150)


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
    assert box.iou(truth) >= 0.8, (box, truth)


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
    assert find_subject(image).iou(truth.clip(*canvas)) >= 0.8


def test_survives_jpeg_noise(photo):
    image, truth = pasted(photo("rocket.jpg").resize((480, 320)), (1000, 900), (400, 300))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=50)
    assert find_subject(Image.open(out).convert("RGB")).iou(truth) >= 0.8


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


def flood_fill_components(mask: np.ndarray) -> set[tuple[Box, int]]:
    """The obvious reference: a breadth-first flood fill from every unvisited True cell."""
    seen, found = np.zeros_like(mask), set()
    for start in zip(*np.nonzero(mask), strict=True):
        if seen[start]:
            continue
        seen[start], queue, cells = True, deque([start]), []
        while queue:
            y, x = queue.popleft()
            cells.append((y, x))
            for ny, nx in ((y - 1, x), (y + 1, x), (y, x - 1), (y, x + 1)):
                if 0 <= ny < mask.shape[0] and 0 <= nx < mask.shape[1] and mask[ny, nx] and not seen[ny, nx]:
                    seen[ny, nx] = True
                    queue.append((ny, nx))
        ys, xs = zip(*cells, strict=True)
        found.add((Box(min(xs), max(xs) + 1, min(ys), max(ys) + 1), len(cells)))
    return found


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 24), st.integers(1, 24), st.floats(0.0, 0.9), st.integers(0, 2**32 - 1))
def test_components_agree_with_a_flood_fill(height, width, density, seed):
    mask = np.random.default_rng(seed).random((height, width)) < density
    found = components(mask)
    assert {(box, round(mass)) for box, mass in found} == flood_fill_components(mask)
    assert [mass for _, mass in found] == sorted((mass for _, mass in found), reverse=True)


def test_components_weigh_and_filter():
    mask = np.zeros((6, 8), bool)
    mask[0:2, 0:2] = True  # 4 cells
    mask[3:6, 4:8] = True  # 12 cells
    weight = np.full(mask.shape, 0.5)
    weight[0:2, 0:2] = 10.0
    assert components(mask, weight) == [(Box(0, 2, 0, 2), 40.0), (Box(4, 8, 3, 6), 6.0)]
    assert components(mask, min_mass=5) == [(Box(4, 8, 3, 6), 12.0)]
    assert components(np.zeros((3, 3), bool)) == []


def test_two_photos_apart_on_white_are_the_pair_then_each(photo):
    image, left = pasted(photo("chelsea.png").resize((300, 200)), (1000, 700), (50, 80))
    image.paste(photo("rocket.jpg").resize((300, 200)), (600, 420))
    right = Box(600, 900, 420, 620)
    main, *parts = plain_subjects(image)
    assert main.iou(Box(50, 900, 80, 620)) >= 0.9
    assert len(parts) == 2
    assert max(p.iou(left) for p in parts) >= 0.8 and max(p.iou(right) for p in parts) >= 0.8


def test_a_busy_picture_in_a_plain_frame_is_not_a_product_shot(photo):
    framed, _ = pasted(photo("astronaut.png").resize((760, 560)), (800, 600), (20, 20), colour=(0, 0, 0))
    assert plain_subjects(framed) is None  # the frame is plain, but what it holds covers 90 % of it
    assert find_subject(framed) == whole(framed)


def cut_out(photo: Image.Image, size: tuple[int, int]) -> Image.Image:
    """The photo cut along an ellipse, as a product's outline on a transparent layer."""
    cut = photo.convert("RGB").resize(size).convert("RGBA")
    outline = Image.new("L", size, 0)
    ImageDraw.Draw(outline).ellipse((0, 0, size[0] - 1, size[1] - 1), fill=255)
    cut.putalpha(outline)
    return cut


def on_backdrop(cut: Image.Image, canvas: tuple[int, int], at: tuple[int, int]) -> tuple[Image.Image, Box]:
    image = Image.new("RGB", canvas, (255, 255, 255))
    image.paste(cut, at, cut)
    return image, Box(at[0], at[0] + cut.width, at[1], at[1] + cut.height)


def test_a_product_shot_with_a_small_margin_is_the_product_not_a_framed_picture(photo):
    # The box covers 94 % of the shot, as a framed picture's would, but the backdrop shows around the
    # product's outline inside it.
    image, truth = on_backdrop(cut_out(photo("coffee.png"), (776, 566)), (800, 600), (12, 17))
    (main,) = plain_subjects(image)
    assert main.iou(truth) >= 0.9


def test_a_product_shot_cropped_tight_between_two_edges_is_the_product(photo):
    # Wider than the shot's aspect allows: it touches the left and right edges, the backdrop above and below.
    image, truth = on_backdrop(cut_out(photo("rocket.jpg"), (800, 300)), (800, 420), (0, 60))
    (main,) = plain_subjects(image)
    assert main.iou(truth) >= 0.9
    turned_up = image.transpose(Image.Transpose.ROTATE_90)  # the same, touching the top and bottom
    (main,) = plain_subjects(turned_up)
    assert main.iou(Box(60, 360, 0, 800)) >= 0.9


def test_a_product_shot_cropped_tight_to_every_edge_is_the_whole_shot(photo):
    # The product meets each edge once and the backdrop shows in the corners: no margin, but a product shot.
    image, _ = on_backdrop(cut_out(photo("coffee.png"), (800, 600)), (800, 600), (0, 0))
    assert plain_subjects(jpeg(image)) == [whole(image)]
    pair = Image.new("RGB", (800, 600), (255, 255, 255))  # two side by side: top and bottom met twice
    legs = cut_out(photo("rocket.jpg"), (400, 600))
    pair.paste(legs, (0, 0), legs)
    pair.paste(legs, (400, 0), legs)
    assert plain_subjects(jpeg(pair)) == [whole(pair)]


def test_a_scene_meeting_its_edges_all_along_is_not_a_product_cropped_tight(photo):
    scene = photo("chelsea.png").convert("RGB").resize((800, 600))
    for corner in ((0, 0), (760, 0), (0, 560), (760, 560)):  # plain corners are not enough
        scene.paste(Image.new("RGB", (40, 40), (255, 255, 255)), corner)
    assert plain_subjects(scene) is None


def jpeg(image: Image.Image, quality: int = 90) -> Image.Image:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality)
    return Image.open(io.BytesIO(out.getvalue())).convert("RGB")


def test_a_texture_whose_border_looks_plain_is_not_a_product_shot(photo):
    # Brick's grey reads as a plain border, and its mortar as specks over the whole picture: their box is
    # the picture's border, backdrop by that test, which says nothing of a product.
    bricks = photo("brick.png").convert("RGB").resize((800, 600))
    bricks.paste(photo("coffee.png").resize((400, 300)), (230, 140))
    assert plain_subjects(bricks) is None


def test_a_skyline_under_a_plain_sky_is_not_a_product_shot(photo):
    sky = Image.new("RGB", (800, 600), (120, 170, 230))
    sky.paste(photo("motorcycle_left.png").resize((800, 330)), (0, 270))  # busy bottom and lower sides
    assert plain_subjects(sky) is None


def test_a_turned_box_brings_the_picture_around_it_into_its_corners():
    picture = Image.new("RGB", (300, 200), (0, 0, 255))
    picture.paste(Image.new("RGB", (100, 60), (255, 0, 0)), (100, 70))  # a red box on blue
    box = Box(100, 200, 70, 130)
    assert np.asarray(turned(picture, box, 0.0, 400)).tolist() == np.asarray(crop(picture, box)).tolist()
    tilted = np.asarray(turned(picture, box, 30.0, 400))
    assert tilted.shape == (60, 100, 3)
    assert tuple(tilted[30, 50]) == (255, 0, 0)  # the middle stays where it was
    assert tuple(tilted[0, 0]) == (0, 0, 255) and tuple(tilted[-1, -1]) == (0, 0, 255)  # the blue around


def test_a_box_at_the_picture_s_edge_turns_in_its_border_colour_and_a_big_one_is_turned_small():
    picture = Image.new("RGB", (2000, 1000), (0, 200, 0))
    box = Box(0, 2000, 0, 1000)  # nothing of the picture lies around it
    tilted = turned(picture, box, 15.0, 448)
    assert tilted.size == (448, 224)
    assert np.abs(np.asarray(tilted, np.int16) - (0, 200, 0)).max() <= 1  # no black corners


def laid_askew(photo: Image.Image, angle: float) -> tuple[Image.Image, Box]:
    """The photo, 300 x 200, turned by `angle` degrees and laid on grey; the box around it."""
    on_grey = Image.new("RGBA", (600, 600), (128, 128, 128, 255))
    laid = photo.resize((300, 200)).convert("RGBA").rotate(angle, expand=True)
    on_grey.alpha_composite(laid, (300 - laid.width // 2, 300 - laid.height // 2))
    box = Box(300 - laid.width // 2, 300 + laid.width // 2, 300 - laid.height // 2, 300 + laid.height // 2)
    return on_grey.convert("RGB"), box


@pytest.mark.parametrize("name", ["rocket.jpg", "motorcycle_left.png"])
@pytest.mark.parametrize("angle", [-18.0, -7.0, 0.0, 5.0, 14.0])
def test_tilt_reads_how_far_a_photo_lying_askew_is_turned(photo, name, angle):
    back, sure = tilt(*laid_askew(photo(name), angle))
    assert abs(back + angle) < 3.0  # what `turned` takes to stand it up again
    assert sure > 0.2


def test_tilt_is_unsure_where_the_edges_do_not_agree(photo):
    _, sure = tilt(*laid_askew(photo("coffee.png"), 5.0))  # round cups and a diagonal table
    assert sure < 0.1
    noise = np.random.default_rng(0).integers(0, 256, (200, 200, 3), dtype=np.uint8)
    assert tilt(Image.fromarray(noise), Box(0, 200, 0, 200))[1] < 0.05
    assert tilt(Image.new("RGB", (50, 50), (9, 9, 9)), Box(0, 50, 0, 50)) == (0.0, 0.0)
