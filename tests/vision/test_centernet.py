"""The real CenterNet detector: its packaged file, its parity with TensorFlow, its boxes on photographs."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from lookalike.vision.centernet import CenterNet
from lookalike.vision.detection import LEAST_SCORE, MOST, preprocess
from lookalike.vision.subjects import peaks
from tests.vision.conftest import assert_packaged_as_described, packaged_manifest

MANIFEST = packaged_manifest("centernet_mobilenetv3.json")


@pytest.fixture(scope="module")
def detector() -> CenterNet:
    return CenterNet()


def test_onnx_file_matches_its_manifest(detector):
    assert_packaged_as_described(detector.session, MANIFEST)


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


def test_nothing_above_the_threshold_gives_no_boxes(detector):
    from PIL import Image

    assert detector.detect(Image.new("RGB", (300, 200), (128, 128, 128)), min_score=0.3) == []
