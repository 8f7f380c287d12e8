"""Write a trained projection head (tools/train_head.py's .npz and manifest) as the ONNX file Lookalike ships
(vision/projection.py runs it on onnxruntime, on one thread: numpy's matrix product would spread one vector's
product over OpenBLAS's threads and cost ten times the CPU on a busy machine).

    python tools/head_onnx.py HEAD.npz --out src/lookalike/vision/assets/descriptor_projection.onnx

The weights stay float16 in the file (half the bytes) and are cast to float32 inside the graph, so the
file applies exactly what torch's reference in the manifest was computed with. The graph's output is not
normalised (the caller normalises). The manifest is copied beside the output with its file, size and
sha256 made the ONNX file's.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

import numpy as np
from onnx import TensorProto, helper, numpy_helper

OPSET = 17


def graph_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    """A linear head, y = x W + b, or a residual one, y = x + relu(x W + b) W2 + b2, x (n, inputs)."""
    inputs = arrays["W"].shape[0]
    nodes = [helper.make_node("Cast", [f"{name}16"], [name], to=TensorProto.FLOAT) for name in arrays]
    nodes += [helper.make_node("MatMul", ["x", "W"], ["xW"]), helper.make_node("Add", ["xW", "b"], ["first"])]
    if "W2" in arrays:
        nodes += [
            helper.make_node("Relu", ["first"], ["hidden"]),
            helper.make_node("MatMul", ["hidden", "W2"], ["hW2"]),
            helper.make_node("Add", ["hW2", "b2"], ["correction"]),
            helper.make_node("Add", ["x", "correction"], ["y"]),
        ]
        outputs = inputs
    else:
        nodes.append(helper.make_node("Identity", ["first"], ["y"]))
        outputs = arrays["W"].shape[1]
    graph = helper.make_graph(
        nodes,
        "descriptor_projection",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", inputs])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", outputs])],
        [numpy_helper.from_array(array.astype(np.float16), f"{name}16") for name, array in arrays.items()],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 8  # what onnxruntime >= 1.18 reads
    return model.SerializeToString()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("head", type=Path, help="train_head.py's .npz; its manifest is the .json beside it")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    with np.load(args.head) as loaded:
        arrays = {name: loaded[name] for name in loaded.files}
    data = graph_bytes(arrays)
    args.out.write_bytes(data)
    manifest = json.loads(args.head.with_suffix(".json").read_text())
    manifest |= {"file": args.out.name, "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
    manifest["dtype"] = "float16 weights, cast to float32 in the graph"
    args.out.with_suffix(".json").write_text(json.dumps(manifest, indent=1) + "\n")
    print(f"{args.out}: {len(data)} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
