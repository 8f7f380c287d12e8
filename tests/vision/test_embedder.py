"""The real model: its packaged file, its parity with the torch export, and the geometry of its embeddings."""

from __future__ import annotations

import hashlib
import io
import json
from concurrent.futures import ThreadPoolExecutor
from importlib import resources

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from PIL import Image

from lookalike.vision.embedder import SCREEN_ASSET, Embedder, load_session, normalise, preprocess
from lookalike.vision.pooling import rmac_gem
from tests.vision.conftest import PHOTOS

ASSETS = resources.files("lookalike.vision").joinpath("assets")
MANIFEST = json.loads(ASSETS.joinpath("efficientnet_lite0.json").read_text())
SCREEN_MANIFEST = json.loads(ASSETS.joinpath("efficientnet_lite0_int8.json").read_text())


@pytest.fixture(scope="module")
def session() -> ort.InferenceSession:
    return load_session()


def jpeg_copy(image: Image.Image, scale: float = 0.7, quality: int = 60) -> Image.Image:
    """What a shop re-uploads: resized and recompressed."""
    small = image.resize((round(image.width * scale), round(image.height * scale)), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    small.save(out, "JPEG", quality=quality)
    return Image.open(io.BytesIO(out.getvalue())).convert("RGB")


def test_onnx_file_matches_its_manifest(session):
    data = ASSETS.joinpath(MANIFEST["onnx_file"]).read_bytes()
    assert hashlib.sha256(data).hexdigest() == MANIFEST["onnx_sha256"]
    assert len(data) == MANIFEST["onnx_bytes"] < 30 * 1024 * 1024
    (image,) = session.get_inputs()
    assert (image.name, image.shape[1:], image.type) == ("image", [3, 224, 224], "tensor(float)")
    shapes = {out.name: out.shape[1:] for out in session.get_outputs()}
    assert shapes == {name: shape[1:] for name, shape in MANIFEST["outputs"].items()}


def test_random_input_reproduces_the_torch_reference(session):
    ref = MANIFEST["reference"]["random"]
    pixels = np.random.default_rng(ref["seed"]).integers(0, 256, size=(1, 3, 224, 224), dtype=np.uint8)
    x = ((pixels.astype(np.float32) - 127.0) / 128.0).astype(np.float32)
    assert hashlib.sha256(x.tobytes()).hexdigest() == ref["input_sha256"], "numpy's seeded stream changed"
    (features,) = session.run(["features"], {"image": x})
    diff = np.abs(features[0] - np.array(ref["features"], np.float32)).max()
    assert diff <= MANIFEST["reference"]["tolerance"], f"onnxruntime differs from torch by {diff:.2e}"


def test_photo_reproduces_the_torch_reference(session, photo):
    ref = MANIFEST["reference"]["photo"]
    x = preprocess([photo(ref["file"].rsplit("/", 1)[1])])
    # A different input means our decode/resize changed (or Pillow's did): the reference no longer applies.
    assert hashlib.sha256(x.tobytes()).hexdigest() == ref["input_sha256"], "preprocessing changed"
    features, logits = session.run(["features", "logits"], {"image": x})
    diff = np.abs(features[0] - np.array(ref["features"], np.float32)).max()
    assert diff <= MANIFEST["reference"]["tolerance"], f"onnxruntime differs from torch by {diff:.2e}"
    assert np.argsort(-logits[0])[:5].tolist() == ref["top5_logits"]


def test_outputs_agree_with_each_other(session, photo):
    x = preprocess([photo("chelsea.png"), photo("coffee.png")])
    feature_map, features, logits = session.run(["feature_map", "features", "logits"], {"image": x})
    assert feature_map.shape == (2, 1280, 7, 7) and logits.shape == (2, 1000)
    assert feature_map.min() >= 0 and feature_map.max() <= 6  # after ReLU6
    np.testing.assert_allclose(feature_map.mean(axis=(2, 3)), features, atol=1e-5)
    assert logits[0].argmax() in range(281, 286)  # ImageNet's domestic cats
    assert logits[1].argmax() == 967  # espresso


def test_embeddings_are_unit_non_negative_float32(embedder, photo):
    vectors = embedder.embed([photo(name) for name in PHOTOS])
    assert embedder.dim == 1280
    assert vectors.shape == (len(PHOTOS), 1280) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert vectors.min() >= 0
    assert embedder.embed([]).shape == (0, 1280)


def test_identical_image_scores_one(embedder, photo):
    a = embedder.embed([photo("rocket.jpg")])[0]
    b = embedder.embed([photo("rocket.jpg").copy()])[0]
    assert float(a @ b) >= 0.9999


def test_recompressed_copy_is_nearest_to_its_original(embedder, photo):
    originals = embedder.embed([photo(name) for name in PHOTOS])
    copies = embedder.embed([jpeg_copy(photo(name)) for name in PHOTOS])
    scores = copies @ originals.T  # row i: copy i against every original
    for i, name in enumerate(PHOTOS):
        others = np.delete(scores[i], i)
        assert scores[i, i] > others.max(), f"{name}: {scores[i, i]:.3f} vs {others.max():.3f}"
        assert scores[i, i] > 0.9


def test_batch_equals_single_calls(embedder, photo):
    images = [photo(name) for name in PHOTOS]
    batch = embedder.embed(images)
    singles = np.concatenate([embedder.embed([image]) for image in images])
    np.testing.assert_allclose(batch, singles, atol=1e-5)


def test_any_input_mode_and_size(embedder, photo):
    rgb = photo("chelsea.png")
    for image in [rgb.convert("L"), rgb.convert("P"), rgb.resize((100, 4000)), rgb.resize((4096, 100))]:
        vector = embedder.embed([image])
        assert vector.shape == (1, 1280) and np.isfinite(vector).all()


def test_concurrent_calls_match_serial(embedder, photo):
    images = [photo(name) for name in PHOTOS]
    serial = [embedder.embed([image]) for image in images]
    with ThreadPoolExecutor(4) as pool:
        parallel = list(pool.map(lambda image: embedder.embed([image]), images * 2))
    for got, want in zip(parallel, serial * 2, strict=True):
        np.testing.assert_allclose(got, want, atol=1e-5)


def test_vectors_pool_the_map_by_rmac_gem_unless_told_to_keep_the_models_own(embedder, session, photo):
    x = preprocess([photo("chelsea.png"), photo("coffee.png")])
    feature_map, features = session.run(["feature_map", "features"], {"image": x})
    images = [photo("chelsea.png"), photo("coffee.png")]
    assert embedder.pooling == "rmac-gem3"
    np.testing.assert_allclose(embedder.embed(images), normalise(rmac_gem(feature_map)), atol=1e-5)
    np.testing.assert_allclose(embedder.look(images).vectors, embedder.embed(images), atol=1e-5)
    # What data directories made before the pooling was a choice hold: the model's own features.
    legacy = Embedder(pooling="features")
    np.testing.assert_allclose(legacy.embed(images), normalise(features), atol=1e-5)
    np.testing.assert_allclose(legacy.look(images).vectors, normalise(features), atol=1e-5)


def test_an_unknown_pooling_is_refused():
    with pytest.raises(ValueError, match="unknown pooling 'max'"):
        Embedder(pooling="max")


def test_model_path_and_threads_are_honoured(photo):
    path = resources.files("lookalike.vision").joinpath("assets", "efficientnet_lite0.onnx")
    with resources.as_file(path) as file:
        embedder = Embedder(file, threads=1)
    assert embedder.session.get_session_options().intra_op_num_threads == 1
    assert embedder.embed([photo("coffee.png")]).shape == (1, 1280)


def test_the_screening_model_is_the_model_the_packaged_one_was_tuned_from_quantised():
    data = ASSETS.joinpath(SCREEN_MANIFEST["onnx_file"]).read_bytes()
    assert hashlib.sha256(data).hexdigest() == SCREEN_MANIFEST["onnx_sha256"]
    # The model the packaged one was fine-tuned from (vision/fingerprint.py, `kin`), or the packaged one.
    tuned_from = MANIFEST.get("fine_tuned", {}).get("from_onnx_sha256", MANIFEST["onnx_sha256"])
    assert SCREEN_MANIFEST["from_onnx_sha256"] == tuned_from
    ops = {node.op_type for node in onnx.load_from_string(data).graph.node}
    assert "QLinearConv" in ops and "Conv" not in ops  # every convolution in 8 bits


def test_the_screening_model_computes_the_same_on_every_cpu():
    """Its weights use 7 bits (tools/quantize_onnx.py): a CPU without VNNI adds two uint8 x int8 products
    in 16 bits, which saturate only beyond 2 x 255 x 64. With 8-bit weights the vectors of an AVX2-only
    machine lost their likeness to the float model's (cosine 0.935 on average on the photos below)."""
    graph = onnx.load_from_string(ASSETS.joinpath(SCREEN_MANIFEST["onnx_file"]).read_bytes()).graph
    weights = {tensor.name: tensor for tensor in graph.initializer}
    integer_ops = [node for node in graph.node if node.op_type in ("QLinearConv", "QGemm")]
    assert len(integer_ops) >= 49  # every convolution, and the classifier
    for node in integer_ops:
        values = onnx.numpy_helper.to_array(weights[node.input[3]])
        assert values.dtype == np.int8 and np.abs(values.astype(np.int16)).max() <= 64, node.name


def test_the_screening_model_sees_what_the_full_model_sees(embedder, photo):
    """Close vectors (not the same: never stored), and each photo nearest to its own full vector."""
    pictures = [photo(name) for name in PHOTOS]
    full, screened = embedder.embed(pictures), Embedder(asset=SCREEN_ASSET).embed(pictures)
    cosines = (full * screened).sum(axis=1)
    assert cosines.min() >= 0.9 and cosines.mean() >= 0.96, cosines  # measured: 0.909 and 0.967
    assert cosines.max() < 1 - 1e-4
    assert (screened @ full.T).argmax(axis=1).tolist() == list(range(len(pictures)))


def test_the_packaged_models_fit_in_60_mb_in_all():
    sizes = {path.name: len(path.read_bytes()) for path in ASSETS.iterdir() if path.name.endswith(".onnx")}
    assert len(sizes) >= 4 and sum(sizes.values()) <= 60 * 1024 * 1024, sizes
