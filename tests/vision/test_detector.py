"""The two real detectors, each and together: their objects taking turns, each object once; and which of
them a product shot in a room stands for."""

from __future__ import annotations

from itertools import zip_longest

import pytest

from lookalike.domain.image import Box
from lookalike.vision.centernet import CenterNet
from lookalike.vision.detection import Detection, preprocess
from lookalike.vision.detector import (
    AGREE,
    CONSIDERED,
    LEAST_SHARE,
    THREADS,
    Detector,
    agreed,
    first_distinct,
)
from lookalike.vision.nanodet import NanoDet
from lookalike.vision.salience import SAME_SUBJECT
from tests.conftest import photo_image, place


@pytest.fixture(scope="module")
def detector() -> Detector:
    return Detector()


def test_both_packaged_models_are_asked(detector):
    assert [type(model) for model in detector.models] == [CenterNet, NanoDet]


@pytest.mark.parametrize("name", ["rocket.jpg", "astronaut.png", "coffee.png"])
def test_their_objects_take_turns_centernet_first_each_once(detector, photo, name):
    picture = photo(name)
    centernet, nanodet = (model.detect(picture) for model in detector.models)
    found = detector.detect(picture)
    turns = [d for pair in zip_longest(centernet, nanodet) for d in pair if d is not None]
    # Every object is one of theirs, in turn order, none the same as one before it; only those are left out.
    assert found == [d for d in turns if d in found]
    for i, d in enumerate(found):
        assert all(d.box.iou(other.box) < SAME_SUBJECT for other in found[:i])
    for d in turns:
        assert d in found or any(d.box.iou(other.box) >= SAME_SUBJECT for other in found) or len(found) == 30
    assert found[0] == centernet[0]


def test_a_box_is_left_out_only_for_one_kept_before_it():
    first = Box(0, 100, 0, 100)
    same = Box(0, 100, 0, 70)  # IoU 0.7 with the first: the same subject
    beside = Box(0, 100, 0, 71)  # IoU 0.71 with the first: the same subject too
    shifted = Box(0, 100, 0, 60)  # IoU 0.86 with `same`, which was left out; 0.6 with the first
    apart = Box(200, 300, 0, 100)
    assert first.iou(same) == SAME_SUBJECT and shifted.iou(same) >= SAME_SUBJECT > shifted.iou(first)
    assert first_distinct([first, same, beside, shifted, apart], most=30) == [0, 3, 4]
    assert first_distinct([first, same, beside, shifted, apart], most=2) == [0, 3]
    assert first_distinct([], most=30) == []


def test_the_models_share_the_input_they_both_take(detector, photo):
    """One resize of the picture serves both models: the same boxes as each making its own."""
    picture = photo("astronaut.png")
    sides = {model.side for model in detector.models}
    assert len(sides) == 1
    (side,) = sides
    for model in detector.models:
        assert model.detect_in(preprocess(picture, side), picture) == model.detect(picture)


def test_at_most_as_many_as_asked(detector, photo):
    found = detector.detect(photo("rocket.jpg"), most=7)
    assert len(found) == 7


@pytest.mark.parametrize("model", [CenterNet, NanoDet, Detector])
def test_the_cup_in_the_coffee_photo(model, photo):
    picture = photo("coffee.png")  # 600 x 400: a cup of coffee on its saucer, seen from above
    best = model().detect(picture)[0]
    assert best.score > 0.3
    assert 120 <= best.box.x1 <= 200 and 380 <= best.box.x2 <= 460, best  # the cup, not the whole table
    assert best.box.y1 <= 60 and best.box.y2 >= 220, best


@pytest.mark.parametrize("model", [CenterNet, NanoDet, Detector])
@pytest.mark.parametrize("ground", ["grass", "gravel", "brick"])
def test_a_small_object_on_cluttered_ground_is_among_the_first_boxes(model, ground):
    """The motorcycle photo laid on a real texture at 4 % of its area: what the activation finder misses."""
    scene = photo_image(ground).resize((800, 600))
    picture, truth = place(
        scene, photo_image("motorcycle").crop((100, 50, 700, 460)), at=(430, 300), width=170
    )
    assert truth.width * truth.height / (800 * 600) < 0.05
    found = model().detect(picture)
    assert max(d.box.iou(truth) for d in found[:3]) >= 0.5, (truth, found[:3])


def test_one_thread_unless_told_finds_the_same_boxes(detector, photo):
    """A pass runs on THREADS intra-op threads unless the operator asks for more, with the same results."""
    for model in detector.models:
        assert model.session.get_session_options().intra_op_num_threads == THREADS == 1
    two = Detector(threads=2)
    for model in two.models:
        assert model.session.get_session_options().intra_op_num_threads == 2
    for name in ("rocket.jpg", "astronaut.png", "coffee.png"):
        assert two.detect(photo(name)) == detector.detect(photo(name))


def _found(*boxes: Box, score: float = 0.5) -> list[Detection]:
    return [Detection(box, score) for box in boxes]


FRAME = (1000, 1000)


def test_a_product_shot_in_a_room_is_the_object_a_salient_subject_agrees_with():
    """The activations' subject is loose (the product and the table under it); the detected object that
    overlaps it is the product, tightly."""
    loose, product, lamp = Box(100, 700, 100, 800), Box(200, 600, 150, 600), Box(800, 950, 50, 400)
    assert loose.iou(product) >= AGREE
    assert agreed([loose], _found(lamp, product), FRAME) == product


def test_the_first_subject_to_agree_with_an_object_decides():
    first, second = Box(0, 400, 0, 400), Box(500, 900, 500, 900)
    near_second, near_first = Box(520, 880, 520, 880), Box(20, 380, 20, 380)
    # The detector is surer of the object by the second subject; the first subject's object wins.
    assert agreed([first, second], _found(near_second, near_first), FRAME) == near_first
    # Where the first subject agrees with nothing, the second's object is taken.
    assert agreed([Box(0, 100, 900, 1000), second], _found(near_second, near_first), FRAME) == near_second


def test_specks_and_unlikely_objects_do_not_count_and_nothing_agreeing_gives_none():
    subject = Box(0, 500, 0, 500)
    speck = Box(0, 200, 0, 200)  # 4 % of the frame: under LEAST_SHARE
    assert speck.width * speck.height < LEAST_SHARE * FRAME[0] * FRAME[1]
    assert agreed([subject], _found(speck), FRAME) is None
    elsewhere = Box(600, 1000, 600, 1000)
    beyond = _found(*[elsewhere] * CONSIDERED, Box(0, 450, 0, 450))  # agrees, but after CONSIDERED others
    assert agreed([subject], beyond, FRAME) is None
    assert agreed([subject], [], FRAME) is None
