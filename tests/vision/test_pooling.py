"""Pooling the feature map into the global descriptor: R-MAC regions of generalised means."""

from __future__ import annotations

import numpy as np
import pytest

from lookalike.vision.pooling import rmac_gem, rmac_regions


def test_the_regions_of_a_7x7_map_are_the_whole_then_2x2_then_3x3():
    assert list(rmac_regions(7)) == sorted(
        [(0, 0, 7)]
        + [(y, x, 5) for y in (0, 2) for x in (0, 2)]
        + [(y, x, 4) for y in (0, 2, 3) for x in (0, 2, 3)]
    )


def test_every_region_lies_inside_the_map():
    for side in (1, 2, 7, 9, 14):
        for y, x, size in rmac_regions(side):
            assert min(y, x) >= 0 and size >= 1 and max(y, x) + size <= side


def test_a_uniform_map_pools_to_a_uniform_vector():
    pooled = rmac_gem(np.full((2, 8, 7, 7), 0.5, np.float32))
    assert pooled.shape == (2, 8)
    np.testing.assert_allclose(pooled, pooled[0, 0], rtol=1e-5)


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))


@pytest.mark.parametrize("seed", range(5))
def test_a_changed_corner_moves_the_vector_less_than_it_moves_the_average(seed):
    # A corner of the box unlike the catalog shot (a shadow, background inside a loose box): regions
    # without it keep their say, so the descriptor stays closer to the one of the unchanged picture.
    rng = np.random.default_rng(seed)
    picture = rng.uniform(0, 1, (1, 64, 7, 7)).astype(np.float32)
    changed = picture.copy()
    changed[0, :, :2, :2] = rng.uniform(0, 3, (64, 2, 2))
    average = cosine(picture.mean(axis=(2, 3))[0], changed.mean(axis=(2, 3))[0])
    assert cosine(rmac_gem(picture)[0], rmac_gem(changed)[0]) > average


def test_a_map_that_is_not_square_is_refused():
    with pytest.raises(ValueError, match="square"):
        rmac_gem(np.ones((1, 4, 7, 9), np.float32))
