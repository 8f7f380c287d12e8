"""A subject's finer detail: an earlier stage of the packaged model's pass, pooled, beside its vector."""

from __future__ import annotations

from importlib import resources

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from PIL import Image, ImageDraw

from lookalike.vision.detail import OUTPUT, SIZE, from_bytes, likeness, pooled, to_bytes
from lookalike.vision.embedder import MODEL_ASSET, Embedder, preprocess


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return Embedder()


def stripes(width: int, colours=((200, 40, 30), (240, 240, 240))) -> Image.Image:
    image = Image.new("RGB", (224, 224), colours[1])
    draw = ImageDraw.Draw(image)
    for x in range(0, 224, 2 * width):
        draw.rectangle((x, 0, x + width - 1, 223), fill=colours[0])
    return image


def checks(width: int, colours=((200, 40, 30), (240, 240, 240))) -> Image.Image:
    image = Image.new("RGB", (224, 224), colours[1])
    draw = ImageDraw.Draw(image)
    for x in range(0, 224, width):
        for y in range(0, 224, width):
            if (x // width + y // width) % 2 == 0:
                draw.rectangle((x, y, x + width - 1, y + width - 1), fill=colours[0])
    return image


def test_the_packaged_model_gives_each_picture_its_detail_from_the_same_pass(embedder):
    looks = embedder.look([stripes(8), checks(8)])
    assert looks.details is not None and looks.details.shape == (2, SIZE)
    assert np.allclose(np.linalg.norm(looks.details, axis=1), 1, atol=1e-5)
    assert looks.details.min() >= 0  # after a ReLU6: cosines lie in [0, 1]


def test_one_pattern_is_more_alike_to_itself_shifted_than_to_another_in_the_same_colours(embedder):
    shifted = stripes(8).transform((224, 224), Image.Transform.AFFINE, (1, 0, 5, 0, 1, 0))
    details = embedder.look([stripes(8), shifted, checks(8)]).details
    assert details is not None
    assert likeness(details[0], details[1]) > likeness(details[0], details[2])


def test_pooling_is_a_generalised_mean_over_the_map_normalised():
    maps = np.zeros((1, SIZE, 14, 14), np.float32)
    maps[0, 0] = 2.0  # one channel everywhere
    maps[0, 1, 0, 0] = (8 * 196) ** (1 / 3)  # another in one cell of 196: its cubes' mean is 8 = 2^3
    vector = pooled(maps)[0]
    assert vector[0] == pytest.approx(vector[1], rel=1e-4) and vector[0] == pytest.approx(2**-0.5, rel=1e-4)


def test_a_detail_is_kept_in_half_precision_and_read_back():
    vector = pooled(np.random.default_rng(1).uniform(size=(1, SIZE, 14, 14)).astype(np.float32))[0]
    assert len(to_bytes(vector)) == 2 * SIZE
    assert np.allclose(from_bytes(to_bytes(vector)), vector, atol=1e-3)
    with pytest.raises(ValueError, match="detail"):
        from_bytes(b"\0" * 128)  # a colour signature's size: not this


def test_the_output_is_added_as_onnx_adds_it_and_the_vectors_stay_the_file_s(embedder):
    # The packaged file with the output added by `onnx` itself (parsing and writing back the graph), and
    # the file as it is: the appended field must give the same detail, and the same vectors as ever.
    model = onnx.load_from_string(resources.files("lookalike.vision").joinpath(MODEL_ASSET).read_bytes())
    plain_session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    model.graph.output.append(onnx.helper.make_tensor_value_info(OUTPUT, onnx.TensorProto.FLOAT, None))
    by_onnx = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    batch = preprocess([stripes(8), checks(5)])
    names = ["features", "feature_map", OUTPUT]
    ours = dict(zip(names, embedder.session.run(names, {"image": batch}), strict=True))
    theirs = dict(zip(names, by_onnx.run(names, {"image": batch}), strict=True))
    for name in names:
        np.testing.assert_allclose(ours[name], theirs[name], rtol=1e-5, atol=1e-5)
    (features,) = plain_session.run(["features"], {"image": batch})
    np.testing.assert_allclose(ours["features"], features, rtol=1e-5, atol=1e-5)
