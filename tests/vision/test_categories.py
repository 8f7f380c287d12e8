"""The 14 categories and the hand-made table from the model's ImageNet classes to them."""

from __future__ import annotations

import numpy as np
import pytest

from lookalike.vision.categories import CATEGORIES, IMAGENET, OTHER, category_scores


def test_the_table_names_each_imagenet_class_once_and_every_product_category():
    classes = [index for indices in IMAGENET.values() for index in indices]
    assert len(classes) == len(set(classes)) and all(0 <= index < 1000 for index in classes)
    assert set(IMAGENET) == set(CATEGORIES) - {OTHER}
    assert all(len(indices) >= 3 for indices in IMAGENET.values())


def test_scores_are_a_distribution_over_the_categories():
    scores = category_scores(np.random.default_rng(1).normal(0, 3, 1000))
    assert set(scores) == set(CATEGORIES)
    assert sum(scores.values()) == pytest.approx(1.0) and min(scores.values()) >= 0


@pytest.mark.parametrize(
    "imagenet_class,category",
    [(949, 6), (850, 20), (630, 4), (907, 8), (487, 22), (559, 9), (629, 7), (414, 3), (281, OTHER)],
)  # strawberry, teddy bear, slip-on shoe, wine bottle, mobile phone, folding chair, lipstick, backpack, cat
def test_a_confident_class_gives_its_category(imagenet_class, category):
    logits = np.zeros(1000)
    logits[imagenet_class] = 12.0
    scores = category_scores(logits)
    assert max(scores, key=scores.get) == category and scores[category] > 0.9
