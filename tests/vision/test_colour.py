"""A subject's colour signature: its chromaticity, whatever its brightness, weighted to its middle."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw

from lookalike.vision.colour import SIZE, from_bytes, likeness, signature, to_bytes

RED, DARK_RED, BLUE, GREEN = (200, 40, 30), (100, 20, 15), (30, 50, 190), (40, 170, 60)


def square(colour: tuple[int, int, int], side: int = 120) -> Image.Image:
    return Image.new("RGB", (side, side), colour)


def framed(inside: tuple[int, int, int], outside: tuple[int, int, int]) -> Image.Image:
    """A product of one colour filling the middle half of a box of another (its surroundings)."""
    image = square(outside, 200)
    ImageDraw.Draw(image).rectangle((50, 50, 149, 149), fill=inside)
    return image


def test_a_signature_is_a_histogram():
    colours = signature(framed(RED, GREEN))
    assert colours.shape == (SIZE,) and colours.dtype == np.float32
    assert colours.min() >= 0 and colours.sum() == pytest.approx(1, abs=1e-5)


def test_one_colour_is_alike_in_light_and_in_shade_and_unlike_another():
    assert likeness(signature(square(RED)), signature(square(DARK_RED))) > 0.9
    assert likeness(signature(square(RED)), signature(square(BLUE))) < 0.1


def test_a_slight_cast_moves_a_colour_little_even_across_a_bin_edge():
    # Red shares 0.37 and 0.38 of these two greys' light: either side of a bin's edge (3/8).
    assert likeness(signature(square((74, 60, 66))), signature(square((76, 60, 64)))) > 0.85


def test_the_middle_of_the_box_counts_more_than_its_surroundings():
    # A product filling the middle quarter of its box weighs as much as the three quarters around it.
    product = signature(framed(RED, BLUE))
    assert likeness(product, signature(square(RED))) > 0.45
    assert likeness(product, signature(square(BLUE))) < 0.55


def test_a_signature_is_kept_and_read_back():
    colours = signature(framed(GREEN, RED))
    assert np.allclose(from_bytes(to_bytes(colours)), colours, atol=1e-3)
    with pytest.raises(ValueError):
        from_bytes(to_bytes(colours)[:-2])


def test_a_box_of_a_picture_is_the_same_as_the_box_cut_out():
    picture = framed(RED, BLUE)
    assert likeness(signature(picture, (50, 50, 150, 150)), signature(square(RED, 100))) > 0.95
    assert signature(picture, (70, 70, 70, 70)).sum() == pytest.approx(1, abs=1e-5)  # a point: one pixel
