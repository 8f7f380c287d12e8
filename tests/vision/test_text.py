"""Text search needs a text tower from the same joint model as the image tower; without one it is refused.

No ONNX text tower with weights installs from a package registry here, so the text path itself is not run:
these tests cover the refusal, and the checks that keep a wrong model from being configured.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest

from lookalike.domain.errors import Unsupported
from lookalike.vision.embedder import MODEL_ASSET
from lookalike.vision.pipeline import Vision
from lookalike.vision.text import OnnxTextTower


def test_without_a_text_tower_searching_by_text_is_refused_naming_the_models_that_can(embedder):
    with pytest.raises(Unsupported) as info:
        Vision(embedder).embed_text("red dress")
    assert "--text-model" in info.value.message and "image-text" in info.value.message


def test_an_image_model_is_not_accepted_as_a_text_tower():
    image_model = Path(str(resources.files("lookalike.vision").joinpath(MODEL_ASSET)))
    with pytest.raises(ValueError, match="not a text tower: it must take one tensor\\(string\\) input"):
        OnnxTextTower(image_model)


class FakeTextTower:
    """A stand-in with only a dimension (no real text tower installs here), for the dimension check."""

    dim = 512

    def embed_text(self, texts):
        raise AssertionError("never called")


def test_towers_of_different_models_are_refused(embedder):
    with pytest.raises(ValueError, match="one joint image-text model"):
        Vision(embedder, FakeTextTower())
