"""The learned projection that orders a search's closest candidates: its packaged graph, its parity with the
torch that trained it, and what it makes of pictures."""

from __future__ import annotations

import hashlib
import io
import json
from importlib import resources

import numpy as np
import pytest
from PIL import Image, ImageEnhance

from lookalike.vision.embedder import Embedder, normalise
from lookalike.vision.projection import ASSET, MANIFEST, Projection
from tests.vision.conftest import PHOTOS

PACKAGE = resources.files("lookalike.vision")
RECORD = json.loads(PACKAGE.joinpath(MANIFEST).read_text())


@pytest.fixture(scope="module")
def projection() -> Projection:
    return Projection()


def test_the_graph_is_the_one_its_manifest_describes_and_stays_small(projection):
    data = PACKAGE.joinpath(ASSET).read_bytes()
    assert RECORD["file"] == ASSET.rsplit("/", 1)[1]
    assert hashlib.sha256(data).hexdigest() == RECORD["sha256"]
    assert len(data) == RECORD["bytes"] < 5 * 1024 * 1024
    assert (projection.inputs, projection.dim) == (RECORD["inputs"], RECORD["dim"]) == (1280, 1280)
    assert RECORD["recipe"]["descriptor"].startswith("rmac-gem3")  # learnt on the default vectors


def test_onnxruntime_reproduces_the_torch_reference(projection):
    reference = RECORD["reference"]
    x = np.abs(np.random.default_rng(reference["seed"]).normal(size=(1, RECORD["inputs"]))).astype(np.float32)
    (raw,) = projection.session.run(["y"], {"x": normalise(x)})
    diff = np.abs(normalise(raw)[0] - np.array(reference["output"], np.float32)).max()
    assert diff <= reference["tolerance"], f"onnxruntime differs from torch by {diff:.2e}"


def test_closeness_is_the_cosine_of_the_projected_vectors_to_the_closest_query(projection):
    rng = np.random.default_rng(5)
    queries, stored = (normalise(np.abs(rng.normal(size=(n, 1280))).astype(np.float32)) for n in (2, 4))
    got = projection.closeness(queries, stored)
    each = projection(stored) @ projection(queries).T
    np.testing.assert_allclose(got, each.max(axis=1), atol=1e-6)
    assert projection.closeness(stored[:1], stored[:1])[0] == pytest.approx(1.0, abs=1e-6)


def shopped(image: Image.Image) -> Image.Image:
    """The same picture darker, with a colour cast, recompressed: what the projection learnt to ignore."""
    darker = np.asarray(ImageEnhance.Brightness(image).enhance(0.7), np.float32) * [1.1, 1.0, 0.9]
    out = io.BytesIO()
    Image.fromarray(np.clip(darker, 0, 255).astype(np.uint8)).save(out, "JPEG", quality=55)
    return Image.open(io.BytesIO(out.getvalue())).convert("RGB")


def test_a_photo_under_other_light_is_closest_to_itself(projection, photo):
    embedder = Embedder()
    images = [photo(name) for name in PHOTOS]
    catalog = embedder.embed(images)
    for i, query in enumerate(embedder.embed([shopped(image) for image in images])):
        assert projection.closeness(query[None], catalog).argmax() == i
