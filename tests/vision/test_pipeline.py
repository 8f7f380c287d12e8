"""Where the vision looks and what it describes, on real photos: Region, Crop, plain and busy backgrounds."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageDraw

from lookalike.domain.errors import BadValue
from lookalike.domain.image import Box
from lookalike.vision import pipeline
from lookalike.vision.budget import DecodeBudget, DecodeBusy
from lookalike.vision.categories import CATEGORIES
from lookalike.vision.decode import decode_reduced
from lookalike.vision.detector import Detector
from lookalike.vision.embedder import SCREEN_ASSET, Embedder
from lookalike.vision.pipeline import Vision, square
from lookalike.vision.salience import SAME_SUBJECT
from tests.conftest import jpeg, photo_image, place, plain


@pytest.fixture(scope="module")
def vision(embedder) -> Vision:
    return Vision(embedder, detector=Detector())


def on_white(*things: tuple[str, tuple[int, int], int], size=(900, 700)) -> tuple[bytes, list[Box]]:
    picture, boxes = plain(size), []
    for name, at, width in things:
        picture, box = place(picture, photo_image(name), at, width)
        boxes.append(box)
    return jpeg(picture), boxes


def test_a_product_on_a_plain_background_is_cropped_to_it(vision):
    data, (truth,) = on_white(("chelsea", (250, 160), 400))
    seen = vision.see(data)
    assert seen.first.region.iou(truth) >= 0.85  # a margin of 1 % of the picture's side stays around it
    assert seen.subjects == (seen.first.region,)


def test_a_product_on_cluttered_ground_is_cropped_to_it(vision):
    picture, truth = place(photo_image("grass").resize((800, 600)), photo_image("coffee"), (200, 150), 400)
    seen = vision.see(jpeg(picture))
    assert seen.first.region.iou(truth) >= 0.75
    assert seen.subjects[0] == seen.first.region


def test_a_product_shot_in_a_room_is_the_object_the_activations_agree_with(vision):
    """A shop's photo of its product in a room has one subject: the detected object that one of the
    activations' subjects overlaps, tighter than their own box. A search of the photo starts from the
    activations' box, and looks at that object right after it when it looks further."""
    picture, truth = place(photo_image("coffee").resize((900, 600)), photo_image("chelsea"), (300, 250), 300)
    data = jpeg(picture)
    shot = vision.see(data, every_subject=False, product_shot=True)
    activations_alone = Vision(vision.embedder).see(data, every_subject=False, product_shot=True).first.region
    assert shot.first.region.iou(truth) >= 0.8 > 0.7 > activations_alone.iou(truth)
    assert shot.subjects == (shot.first.region,)
    searched = vision.see(data)
    assert searched.subjects[0] == activations_alone
    searched.further()
    assert searched.subjects[1] == shot.first.region


def test_a_product_on_cluttered_ground_is_also_seen_in_the_whole_picture(vision):
    picture, _ = place(photo_image("grass").resize((800, 600)), photo_image("coffee"), (200, 150), 400)
    data = jpeg(picture)
    seen = vision.see(data)
    whole = seen.located.whole
    assert whole is not None and whole.region == Box(0, 800, 0, 600) and seen.may_see_more
    stretched = vision.see(data, crop_subject=False).first  # what Crop=false describes: the same pass
    assert float(whole.vector @ stretched.vector) == pytest.approx(1.0, abs=1e-5)
    others, around = seen.further()
    assert len(others) == len(seen.subjects) - 1
    assert around == [whole]  # the search ranks it beside the chosen subject: no model pass of its own


def test_a_small_product_beside_a_big_one_is_a_further_subject(vision):
    """The activations find the big product; the detector the small one, under 5 % of the frame, that
    the 7 x 7 activation map has no cell of. Further subjects list both cues' finds, the first unchanged."""
    ground = photo_image("gravel").resize((800, 600))
    picture, big = place(ground, photo_image("coffee"), (40, 60), 380)
    picture, small = place(picture, photo_image("motorcycle").crop((100, 50, 700, 460)), (560, 380), 170)
    assert small.width * small.height / (800 * 600) < 0.05
    seen = vision.see(jpeg(picture))
    assert seen.subjects[0].iou(big) >= 0.7
    assert all(box.iou(small) < 0.5 for box in seen.subjects)  # the activations alone miss it
    first = seen.subjects[0]
    others, _ = seen.further()  # the detector looks only when asked for more
    assert seen.subjects[0] == first and len(seen.subjects) <= 1 + pipeline.MAX_OTHERS
    assert max(box.iou(small) for box in seen.subjects[1:]) >= 0.5, seen.subjects
    assert [other.region for other in others] == list(seen.subjects[1:])
    assert seen.further() is seen.further()  # looked for once


def test_further_subjects_asked_for_in_two_steps_are_each_described_once(vision):
    ground = photo_image("gravel").resize((800, 600))
    picture, _ = place(ground, photo_image("coffee"), (40, 60), 380)
    picture, _ = place(picture, photo_image("motorcycle").crop((100, 50, 700, 460)), (560, 380), 170)
    data = jpeg(picture)
    at_once = vision.see(data).further()
    seen = vision.see(data)
    first_two = seen.further(2).others
    assert len(first_two) == min(2, len(at_once.others))
    others, around = seen.further()
    assert others[:2] == first_two  # kept, not described again
    assert [o.region for o in others] == [o.region for o in at_once.others]
    assert all(
        np.allclose(a.vector, b.vector, atol=1e-5) for a, b in zip(others, at_once.others, strict=True)
    )
    assert [view.region for view in around] == [view.region for view in at_once.around]
    assert seen.further(2) is seen.further()  # nothing more to describe


def test_further_subjects_are_screened_and_the_chosen_one_is_described_again_in_full(embedder, vision):
    """With a screener (the model in 8 bits), the other subjects are described by it: close to the full
    model's vectors, not the same; `in_full` gives the full model's description, as `describe` does."""
    screening = Vision(embedder, screener=Embedder(asset=SCREEN_ASSET))
    data, _ = on_white(("chelsea", (40, 60), 330), ("rocket", (480, 330), 360))
    seen = screening.see(data)
    assert not seen.first.screened and seen.in_full(seen.first) is seen.first
    others, _ = seen.further()
    assert others and all(other.screened for other in others)
    for other in others:
        full = seen.in_full(other)
        (described,) = screening.describe(seen.picture, [other.region])
        assert not full.screened and full.region == other.region
        assert np.array_equal(full.vector, described.vector)
        assert 0.9 <= float(other.vector @ full.vector) < 1 - 1e-4
    assert not any(other.screened for other in vision.see(data).further().others)  # no screener


def test_a_given_region_or_the_whole_picture_has_no_further_views(vision):
    picture, _ = place(photo_image("grass").resize((800, 600)), photo_image("coffee"), (200, 150), 400)
    data = jpeg(picture)
    for options in ({"region": Box(10, 300, 20, 200)}, {"crop_subject": False}):
        seen = vision.see(data, **options)
        assert seen.located.whole is None and not seen.may_see_more and seen.further() == ([], [])


@pytest.mark.parametrize("angle", [-15.0, 12.0])
def test_a_region_turned_upright_looks_more_like_the_product_upright(vision, angle):
    """A product photographed askew: its box turned back by the tilt its edges show is closer to the
    product upright than the box as it is; a box upright already is not turned."""
    ground = photo_image("grass").resize((900, 700))
    upright, box = place(ground, photo_image("motorcycle"), (250, 200), 300)
    askew, tilted_box = place(ground, photo_image("motorcycle"), (250, 200), 300, angle=angle)
    straight = vision.see(jpeg(upright), region=box).first.vector
    seen = vision.see(jpeg(askew), region=tilted_box)
    back = seen.upright(seen.first)
    assert back is not None and back.region == tilted_box
    assert float(back.vector @ straight) > float(seen.first.vector @ straight)
    as_it_is = vision.see(jpeg(upright), region=box)
    assert as_it_is.upright(as_it_is.first) is None


def test_regions_of_a_big_photo_are_in_its_own_pixels(vision):
    """A phone-sized JPEG is decoded at a quarter of its size, but every region is in the original's."""
    data, (truth,) = on_white(("chelsea", (1000, 640), 1600), size=(3600, 2800))
    seen = vision.see(data).first
    assert seen.region.iou(truth) >= 0.85
    given = Box(1000, 2600, 640, 1700)
    assert vision.see(data, region=given).first.region == given
    assert vision.see(data, crop_subject=False).first.region == Box(0, 3600, 0, 2800)
    small, _ = on_white(("chelsea", (250, 160), 400))
    assert float(vision.see(small).first.vector @ seen.vector) > 0.9  # the same product, described alike


def test_a_given_region_wins_over_crop(vision):
    data, _ = on_white(("chelsea", (250, 160), 400))
    region = Box(10, 300, 20, 200)
    for crop_subject in (True, False):
        seen = vision.see(data, crop_subject=crop_subject, region=region)
        assert (seen.first.region, seen.subjects) == (region, (region,))
    clipped = vision.see(data, region=Box(800, 5000, 600, 5000))
    assert clipped.first.region == Box(800, 900, 600, 700)


def test_a_region_outside_the_picture_is_refused(vision):
    data, _ = on_white(("chelsea", (250, 160), 400))
    with pytest.raises(BadValue) as refused:
        vision.see(data, region=Box(950, 990, 10, 20))
    assert refused.value.detail == "region" and "900x700" in refused.value.message


def test_crop_false_describes_the_whole_picture(vision):
    data, _ = on_white(("chelsea", (250, 160), 400))
    seen = vision.see(data, crop_subject=False)
    assert seen.first.region == Box(0, 900, 0, 700)


def test_a_product_shot_cropped_tight_keeps_its_aspect_ratio_as_every_product_does(embedder, vision):
    # A tall product filling its shot: its subject is the whole shot, described letterboxed like any
    # product's box, not stretched to the model's square like a scene with Crop=false.
    shot = Image.new("RGB", (300, 800), (255, 255, 255))
    product = photo_image("coffee").convert("RGB").resize((300, 800))
    outline = Image.new("L", (300, 800), 0)
    ImageDraw.Draw(outline).ellipse((0, 0, 299, 799), fill=255)
    shot.paste(product, (0, 0), outline)
    data = jpeg(shot)
    seen = vision.see(data)
    assert seen.first.region == Box(0, 300, 0, 800)
    picture = Image.open(io.BytesIO(data)).convert("RGB")
    assert float(seen.first.vector @ embedder.embed([square(picture)])[0]) == pytest.approx(1.0, abs=1e-5)
    stretched = vision.see(data, crop_subject=False).first.vector
    assert float(seen.first.vector @ stretched) < 0.99


def test_two_products_apart_are_each_a_subject_and_described_on_request(vision):
    data, boxes = on_white(("chelsea", (40, 60), 330), ("rocket", (480, 330), 360))
    seen = vision.see(data)
    union = Box(
        min(b.x1 for b in boxes), max(b.x2 for b in boxes), min(b.y1 for b in boxes), max(b.y2 for b in boxes)
    )
    assert seen.first.region.iou(union) >= 0.85  # together they may be one product, like a pair of shoes
    assert len(seen.subjects) == 3 and seen.may_see_more
    others, around = seen.further(2)
    assert len(others) == 2 and around == []  # a plain background has no surroundings worth a view
    for truth in boxes:
        assert max(other.region.iou(truth) for other in others) >= 0.85
    assert [other.region for other in others] == list(seen.subjects[1:])
    for other in others:
        assert abs(float(np.linalg.norm(other.vector)) - 1.0) < 1e-5
    # Each part alone is described as itself: the two differ more than either differs from the pair.
    assert float(others[0].vector @ others[1].vector) < float(seen.first.vector @ others[0].vector)
    first = vision.see(data, every_subject=False)  # what an add stores: the first subject, alike
    assert first.subjects == (seen.first.region,) and np.array_equal(first.first.vector, seen.first.vector)


def test_a_product_too_small_for_a_plain_ground_is_looked_for_the_cluttered_way_on_request(vision):
    """Sand, water or a wall look as plain as a backdrop; around a product under a tenth of the picture
    the plain way takes the whole picture for the subject. Asked for more, the sight looks again the
    cluttered way: the activations' and the detector's subjects, and the whole picture around them."""
    data, (truth,) = on_white(("coffee", (520, 380), 150))
    seen = vision.see(data)
    everything = Box(0, 900, 0, 700)
    assert seen.subjects == (everything,) and seen.located.plain and seen.may_see_more
    others, around = seen.further(2)
    assert seen.subjects[0] == everything and not seen.located.plain  # the first stays first
    assert [view.region for view in around] == [everything]
    assert [other.region for other in others] == list(seen.subjects[1:3])
    assert max(box.iou(truth) for box in seen.subjects[1:]) >= 0.5, seen.subjects


def test_the_plain_subjects_come_first_and_the_cluttered_look_after_them(vision):
    data, _ = on_white(("chelsea", (40, 60), 330), ("rocket", (480, 330), 360))
    seen = vision.see(data)
    plain_ones = seen.subjects
    parts = seen.further(2).others
    others, around = seen.further()  # more than the plain way found: the cluttered look too
    assert others[:2] == parts and seen.subjects[:3] == plain_ones
    assert [view.region for view in around] == [Box(0, 900, 0, 700)]
    assert all(box.iou(had) < SAME_SUBJECT for box in seen.subjects[3:] for had in plain_ones)


def test_every_description_carries_category_scores(vision):
    seen = vision.see(jpeg(photo_image("coffee")))
    for view in (seen.first, *seen.further().others, *seen.further().around):
        assert set(view.category_scores) == set(CATEGORIES)
        assert sum(view.category_scores.values()) == pytest.approx(1.0)


def test_square_keeps_the_aspect_ratio_and_fills_with_the_border_colour():
    wide = Image.new("RGB", (400, 100), (10, 20, 30))
    wide.paste(Image.new("RGB", (200, 50), (250, 0, 0)), (100, 25))
    squared = square(wide)
    assert squared.size == (224, 224)
    pixels = np.asarray(squared)
    assert (pixels[:80] == (10, 20, 30)).all() and (pixels[-80:] == (10, 20, 30)).all()  # the letterbox
    assert tuple(pixels[112, 112]) == (250, 0, 0)  # the middle of the content, not stretched away


def test_a_sight_decodes_its_picture_once_however_much_is_asked_of_it(vision, monkeypatch):
    picture, _ = place(photo_image("grass").resize((800, 600)), photo_image("coffee"), (200, 150), 400)
    decoded = []

    def counted(data: bytes, **options):
        decoded.append(data)
        return decode_reduced(data, **options)

    monkeypatch.setattr(pipeline, "decode_reduced", counted)
    seen = vision.see(jpeg(picture))
    others, around = seen.further()
    assert len(decoded) == 1 and around and len(others) == len(seen.subjects) - 1


@pytest.mark.parametrize("how", [{}, {"crop_subject": False}, {"region": Box(100, 500, 100, 400)}])
def test_a_sight_makes_a_thumbnail_of_the_whole_picture_however_it_was_located(vision, how):
    picture = photo_image("astronaut").resize((900, 600))
    seen = vision.see(jpeg(picture), **how)
    small = Image.open(io.BytesIO(seen.thumbnail()))
    assert small.format == "JPEG" and small.size == (256, 171)  # the whole picture, fitted to 256 pixels
    expected = np.asarray(picture.resize(small.size, Image.Resampling.BOX), np.float32)
    assert np.abs(np.asarray(small.convert("RGB"), np.float32) - expected).mean() < 6  # not a part of it


def test_a_picture_waits_for_room_in_the_decode_budget_or_is_denied(embedder):
    budget = DecodeBudget(64 * 2**20, wait_seconds=0)
    vision = Vision(embedder, budget=budget)
    data, _ = on_white(("chelsea", (250, 160), 400))
    with budget.hold(budget.limit_bytes), pytest.raises(DecodeBusy):  # other decodes hold it all
        vision.see(data)
    assert vision.see(data).first.vector.shape == (embedder.dim,)
    assert budget.used == 0
