"""A model of one's own that outputs only `features` (what `--image-model` asks of it) serves: no map of where
things are and no class scores, so the subject is the whole picture unless the background is plain, and the
category comes from the stored neighbours alone."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import numpy as np
import onnx
import pytest

from lookalike.app import build_components
from lookalike.config import Settings
from lookalike.domain.image import Box
from lookalike.service.models import AddImage, Picture, SearchOptions
from lookalike.vision.embedder import MODEL_ASSET, Embedder
from lookalike.vision.pipeline import Vision
from tests.conftest import jpeg, photo_image, place, plain


@pytest.fixture(scope="module")
def features_only(tmp_path_factory) -> Path:
    """The packaged model with its `feature_map` and `logits` outputs taken away."""
    model = onnx.load_from_string(resources.files("lookalike.vision").joinpath(MODEL_ASSET).read_bytes())
    kept = [output for output in model.graph.output if output.name == "features"]
    del model.graph.output[:]
    model.graph.output.extend(kept)
    path = tmp_path_factory.mktemp("model") / "features_only.onnx"
    onnx.save(model, str(path))
    return path


def test_the_vectors_are_the_models_and_nothing_else_is_asked(features_only, photos):
    full, own = Embedder(pooling="features"), Embedder(features_only)
    assert own.extras == [] and own.dim == full.dim and own.pooling == "features"
    image = photo_image("coffee")
    looks = own.look([image])
    assert looks.logits is None and looks.feature_maps is None and looks.details is None
    np.testing.assert_allclose(looks.vectors, full.look([image]).vectors, atol=1e-6)


def test_the_subject_is_the_whole_picture_unless_the_background_is_plain(features_only):
    vision = Vision(Embedder(features_only))
    busy, _ = place(photo_image("gravel").resize((600, 450)), photo_image("coffee"), (200, 120), 240)
    sight = vision.see(jpeg(busy))
    assert sight.first.region == Box(0, 600, 0, 450) and sight.first.category_scores == {}
    on_white, cup = place(plain((600, 450)), photo_image("coffee"), (200, 120), 240)
    found = vision.see(jpeg(on_white)).first.region  # the plain-background finder needs no model
    assert found.x1 <= cup.x1 and found.x2 >= cup.x2 and found.y1 <= cup.y1 and found.y2 >= cup.y2
    assert (found.x2 - found.x1) * (found.y2 - found.y1) < 0.4 * 600 * 450


def test_a_server_with_it_adds_and_finds(features_only, tmp_path, photos):
    components = build_components(Settings(data_dir=tmp_path, image_model=features_only))
    try:
        components.instances.create("shop")
        for name in ("coffee", "rocket", "chelsea"):
            components.service.add(AddImage("shop", "p", name, Picture(photos[name])))
        found = components.service.search_by_pic("shop", Picture(photos["coffee"]), SearchOptions())
        assert found.hits[0].image.pic_name == "coffee" and found.hits[0].score > 0.99
    finally:
        components.close()
