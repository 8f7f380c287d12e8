"""The background bank: the packaged graph its manifest describes, and how common a stored vector is."""

from __future__ import annotations

import hashlib
import json
from importlib import resources

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

from lookalike.vision.background import ASSET, MANIFEST, TOP, WEIGHT, Background
from lookalike.vision.embedder import normalise

PACKAGE = resources.files("lookalike.vision")
RECORD = json.loads(PACKAGE.joinpath(MANIFEST).read_text())


@pytest.fixture(scope="module")
def background() -> Background:
    return Background()


@pytest.fixture(scope="module")
def bank() -> np.ndarray:
    """The bank's vectors as the graph holds them, (n, dim)."""
    graph = onnx.load_from_string(PACKAGE.joinpath(ASSET).read_bytes()).graph
    (weights,) = [numpy_helper.to_array(t) for t in graph.initializer if t.name == "bank16"]
    return weights.T.astype(np.float32)


def test_the_graph_is_the_one_its_manifest_describes_and_stays_small(background, bank):
    data = PACKAGE.joinpath(ASSET).read_bytes()
    assert RECORD["file"] == ASSET.rsplit("/", 1)[1]
    assert hashlib.sha256(data).hexdigest() == RECORD["sha256"]
    assert len(data) == RECORD["bytes"] < 3 * 1024 * 1024
    assert bank.shape == (RECORD["recipe"]["kept"], background.dim) == (1024, 1280)
    assert RECORD["descriptor"].startswith("rmac-gem3")  # the packaged descriptor's vectors
    assert RECORD["recipe"]["top"] == TOP
    np.testing.assert_allclose(np.linalg.norm(bank, axis=1), 1.0, atol=2e-3)


def test_commonness_is_the_mean_cosine_of_the_nearest_bank_vectors(background, bank):
    rng = np.random.default_rng(3)
    vectors = normalise(np.abs(rng.normal(size=(4, background.dim))).astype(np.float32))
    vectors = np.concatenate([vectors, bank[:2]])
    want = np.sort(vectors @ bank.T, axis=1)[:, -TOP:].mean(axis=1)
    np.testing.assert_allclose(background.commonness(vectors), want, atol=1e-5)
    np.testing.assert_allclose(background.penalties(vectors), WEIGHT * want, atol=1e-5)
    assert background.commonness(np.zeros((0, background.dim), np.float32)).shape == (0,)


def test_a_background_is_more_common_than_an_odd_vector(background, bank):
    """A bank vector lies among its likes; one pointing where no background does is far from all of them."""
    odd = np.zeros((1, background.dim), np.float32)
    odd[0, int(np.argmin(bank.mean(axis=0)))] = 1.0  # the channel backgrounds use least
    common, rare = background.commonness(np.concatenate([bank[:1], odd]))
    assert common > 0.5 > rare
