"""The real detector: its packaged file, its parity with TensorFlow, and its boxes on real photographs."""

from __future__ import annotations

import hashlib
import json
from importlib import resources

import numpy as np
import pytest

from lookalike.vision.detector import LEAST_SCORE, MOST, THREADS, Detector, preprocess
from lookalike.vision.subjects import peaks
from tests.conftest import photo_image, place

ASSETS = resources.files("lookalike.vision").joinpath("assets")
MANIFEST = json.loads(ASSETS.joinpath("centernet_mobilenetv3.json").read_text())


@pytest.fixture(scope="module")
def detector() -> Detector:
    return Detector()


def test_onnx_file_matches_its_manifest(detector):
    data = ASSETS.joinpath(MANIFEST["onnx_file"]).read_bytes()
    assert hashlib.sha256(data).hexdigest() == MANIFEST["onnx_sha256"]
    assert len(data) == MANIFEST["onnx_bytes"] < 30 * 1024 * 1024
    (image,) = detector.session.get_inputs()
    assert (image.name, image.shape, image.type) == ("image", MANIFEST["input"]["shape"], "tensor(float)")
    shapes = {out.name: out.shape for out in detector.session.get_outputs()}
    assert shapes == {name: spec["shape"] for name, spec in MANIFEST["outputs"].items()}


@pytest.mark.parametrize("reference", MANIFEST["reference"]["photos"], ids=lambda ref: ref["file"])
def test_photo_reproduces_the_tensorflow_peaks(detector, photo, reference):
    """TensorFlow cannot run here: the export recorded its strongest peaks, with their sides."""
    x = preprocess(photo(reference["file"].rsplit("/", 1)[1]), detector.side)
    # A different input means our decode/resize changed (or Pillow's did): the reference no longer applies.
    assert hashlib.sha256(x.tobytes()).hexdigest() == reference["input_sha256"], "preprocessing changed"
    heat, sides = detector.session.run(["heat", "sides"], {"image": x})
    objectness = heat[0].max(axis=-1)
    expected = np.array(reference["peaks"])
    rows, cols = peaks(objectness, 0.0, len(expected))
    assert [rows.tolist(), cols.tolist()] == [
        expected[:, 0].astype(int).tolist(),
        expected[:, 1].astype(int).tolist(),
    ]
    tolerance = MANIFEST["reference"]["tolerance"]
    assert np.abs(objectness[rows, cols] - expected[:, 2]).max() <= tolerance["heat"]
    assert np.abs(sides[0, rows, cols] - expected[:, 3:]).max() <= tolerance["sides"]


def test_the_cup_in_the_coffee_photo(detector, photo):
    picture = photo("coffee.png")  # 600 x 400: a cup of coffee on its saucer, seen from above
    best = detector.detect(picture)[0]
    assert best.score > 0.3
    assert 120 <= best.box.x1 <= 200 and 380 <= best.box.x2 <= 460, best  # the cup, not the whole table
    assert best.box.y1 <= 60 and best.box.y2 >= 220, best


@pytest.mark.parametrize("ground", ["grass", "gravel", "brick"])
def test_a_small_object_on_cluttered_ground_is_among_the_first_boxes(detector, ground):
    """The motorcycle photo laid on a real texture at 4 % of its area: what the activation finder misses."""
    scene = photo_image(ground).resize((800, 600))
    picture, truth = place(
        scene, photo_image("motorcycle").crop((100, 50, 700, 460)), at=(430, 300), width=170
    )
    assert truth.width * truth.height / (800 * 600) < 0.05
    found = detector.detect(picture)
    assert max(d.box.iou(truth) for d in found[:3]) >= 0.5, (truth, found[:3])


def test_boxes_lie_inside_the_picture_best_first(detector, photo):
    picture = photo("astronaut.png")
    found = detector.detect(picture, most=5, min_score=0.0)
    assert len(found) == 5
    assert [d.score for d in found] == sorted((d.score for d in found), reverse=True)
    for d in found:
        assert d.box.clip(*picture.size) == d.box and d.box.width > 0 and d.box.height > 0
        assert 0.0 <= d.score <= 1.0


def test_objects_it_is_unsure_of_are_kept(detector, photo):
    """A product that no COCO class describes scores low: a search is offered such objects too, down to
    LEAST_SCORE (the rocket photo holds more than ten objects, several of them under 0.05)."""
    found = detector.detect(photo("rocket.jpg"))
    assert 10 < len(found) <= MOST
    assert any(d.score < 0.05 for d in found)
    assert min(d.score for d in found) >= LEAST_SCORE


def test_one_thread_unless_told_finds_the_same_boxes(detector, photo):
    """A pass runs on THREADS intra-op threads unless the operator asks for more, with the same results."""
    assert detector.session.get_session_options().intra_op_num_threads == THREADS == 1
    two = Detector(threads=2)
    assert two.session.get_session_options().intra_op_num_threads == 2
    for name in ("rocket.jpg", "astronaut.png", "coffee.png"):
        assert two.detect(photo(name)) == detector.detect(photo(name))


def test_nothing_above_the_threshold_gives_no_boxes(detector):
    from PIL import Image

    assert detector.detect(Image.new("RGB", (300, 200), (128, 128, 128)), min_score=0.3) == []
