"""The real NanoDet detector: its packaged file, its parity with TensorFlow, how its outputs become boxes,
and its boxes on real photographs."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
from PIL import Image

from lookalike.vision.detection import LEAST_SCORE, MOST, preprocess
from lookalike.vision.nanodet import BINS, OVERLAP, STRIDES, NanoDet, distinct, expected
from tests.vision.conftest import assert_packaged_as_described, packaged_manifest

MANIFEST = packaged_manifest("nanodet.json")


@pytest.fixture(scope="module")
def detector() -> NanoDet:
    return NanoDet()


def test_onnx_file_matches_its_manifest(detector):
    assert_packaged_as_described(detector.session, MANIFEST)
    shapes = {out.name: out.shape for out in detector.session.get_outputs()}
    assert shapes["heat"][1] == sum((detector.side // stride) ** 2 for stride in STRIDES)


@pytest.mark.parametrize("reference", MANIFEST["reference"]["photos"], ids=lambda ref: ref["file"])
def test_photo_reproduces_the_tensorflow_rows(detector, photo, reference):
    """TensorFlow cannot run here: the export recorded its likeliest cells, with their expected sides."""
    x = preprocess(photo(reference["file"].rsplit("/", 1)[1]), detector.side)
    # A different input means our decode/resize changed (or Pillow's did): the reference no longer applies.
    assert hashlib.sha256(x.tobytes()).hexdigest() == reference["input_sha256"], "preprocessing changed"
    heat, sides = detector.session.run(["heat", "sides"], {"image": x})
    objectness = heat[0].max(axis=-1)
    expected_rows = np.array(reference["rows"])
    rows = np.argsort(-objectness, kind="stable")[: len(expected_rows)]
    assert rows.tolist() == expected_rows[:, 0].astype(int).tolist()
    tolerance = MANIFEST["reference"]["tolerance"]
    assert np.abs(objectness[rows] - expected_rows[:, 1]).max() <= tolerance["heat"]
    assert np.abs(expected(sides[0, rows]) - expected_rows[:, 2:]).max() <= tolerance["sides"]


def test_an_edge_lies_at_its_bins_expected_distance():
    sure = np.full((1, 4, BINS), -50.0, np.float32)
    for edge, at in enumerate((0, 3, 7, BINS - 1)):
        sure[0, edge, at] = 50.0
    assert expected(sure.reshape(1, -1)) == pytest.approx(np.array([[0, 3, 7, BINS - 1]]))
    torn = np.full((1, 4, BINS), -50.0, np.float32)
    torn[0, :, 2] = torn[0, :, 4] = 0.0  # half its belief at 2 strides, half at 4
    assert expected(torn.reshape(1, -1)) == pytest.approx(np.full((1, 4), 3.0))


def test_a_box_overlapping_a_likelier_one_is_the_same_object():
    corners = np.array(
        [
            [0, 0, 100, 100],  # the likeliest
            [5, 5, 100, 100],  # IoU 0.90 with it: the same object
            [200, 0, 300, 100],  # elsewhere
            [50, 0, 150, 100],  # IoU 1/3 with the first: another object
        ],
        np.float32,
    )
    assert 1 / 3 < OVERLAP < 0.9
    assert distinct(corners, most=10) == [0, 2, 3]
    assert distinct(corners, most=2) == [0, 2]


def test_boxes_lie_inside_the_picture_best_first_and_distinct(detector, photo):
    picture = photo("rocket.jpg")
    found = detector.detect(picture)
    assert 10 < len(found) <= MOST
    assert [d.score for d in found] == sorted((d.score for d in found), reverse=True)
    assert min(d.score for d in found) >= LEAST_SCORE
    for i, d in enumerate(found):
        assert d.box.clip(*picture.size) == d.box and d.box.width > 0 and d.box.height > 0
        assert all(d.box.iou(other.box) < OVERLAP + 0.02 for other in found[:i])  # rounding to pixels


def test_nothing_above_the_threshold_gives_no_boxes(detector):
    assert detector.detect(Image.new("RGB", (300, 200), (128, 128, 128)), min_score=0.3) == []
