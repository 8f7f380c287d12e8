"""Subjects in cluttered photos: real photos laid on real photographs of grass, gravel and brick."""

from __future__ import annotations

import pytest

from lookalike.vision.salience import salient_subjects
from tests.conftest import photo_image, place

GROUND_SIZE = (800, 600)


def ground(name: str):
    return photo_image(name).resize(GROUND_SIZE)


@pytest.mark.parametrize("surface", ["grass", "gravel", "brick"])
@pytest.mark.parametrize("product", ["coffee", "rocket", "chelsea"])
def test_a_product_on_cluttered_ground_is_the_first_subject(embedder, surface, product):
    picture, truth = place(ground(surface), photo_image(product), at=(150, 120), width=420, angle=8)
    subjects = salient_subjects(picture, embedder.look([picture]).feature_maps[0])
    assert subjects[0].iou(truth) >= 0.75, (subjects[0], truth)


def test_two_products_apart_are_two_subjects(embedder):
    picture, left = place(ground("gravel"), photo_image("coffee"), at=(20, 40), width=300)
    picture, right = place(picture, photo_image("rocket"), at=(470, 300), width=300)
    subjects = salient_subjects(picture, embedder.look([picture]).feature_maps[0])
    for truth in (left, right):
        assert max(box.iou(truth) for box in subjects) >= 0.8, (truth, subjects)
    # Asking for one subject gives the same first one, without looking for the rest.
    assert salient_subjects(picture, embedder.look([picture]).feature_maps[0], most=1) == subjects[:1]


def test_subjects_lie_inside_the_picture_and_are_distinct(embedder):
    picture, _ = place(ground("brick"), photo_image("motorcycle"), at=(100, 100), width=500)
    subjects = salient_subjects(picture, embedder.look([picture]).feature_maps[0])
    assert 1 <= len(subjects) <= 4
    for i, box in enumerate(subjects):
        assert box.clip(*picture.size) == box and box.width > 0 and box.height > 0
        assert all(box.iou(other) < 0.7 for other in subjects[i + 1 :])
