"""Quantise EfficientNet-Lite0 to 8-bit integers: the screening model a search describes its further
subjects with (vision/pipeline.py, `Sight.further`).

Writes `src/lookalike/vision/assets/efficientnet_lite0_int8.onnx` and `efficientnet_lite0_int8.json`, from a
float model (`--model`, by default the committed one), with onnxruntime's own static quantisation (no torch,
no TensorFlow). The packaged model is fine-tuned (tools/finetune_descriptor.py), and the screening model is
quantised from the model it was tuned from, which `tools/export_onnx.py` without `--weights` writes (its
sha256 is the packaged manifest's `fine_tuned.from_onnx_sha256`; the tests check it): quantised from the
fine-tuned one, the screening found fewer products first (docs/quality.md, round 31).

    /work/venv-export/bin/python SCRATCH/tools/export_onnx.py  # in a scratch checkout: it writes its assets
    .venv/bin/python tools/quantize_onnx.py --model SCRATCH/src/lookalike/vision/assets/*lite0.onnx
    .venv/bin/python tools/quantize_onnx.py  # a model that is not fine-tuned: the committed one

Weights are int8 per output channel, activations uint8 per tensor, in the QOperator format (QLinearConv).
The weights use 7 bits of the 8 (`reduce_range`): a CPU without VNNI (AVX2 alone) multiplies uint8 by int8
with VPMADDUBSW, which adds two products in 16 bits and saturates beyond 32,767. With full 8-bit weights that
cost the vectors their likeness to the float model's on such a machine (cosine 0.92 on average on the quality
harness's scene pictures and subjects, down to 0.65; 0.98 on a machine with VNNI), and the screening lost
products (docs/quality.md). With 7 bits no sum of two products can saturate (2 x 255 x 64 = 32,640), so every
CPU computes the same integers: cosine 0.96 on average on an AVX2 machine. A picture costs 1.3 times less CPU
than the float model's on AVX2 alone (15.3 against 19.4 ms), 2.3 times less with VNNI (3.3 against 7.9 ms,
measured with 8-bit weights; 7 bits run the same instructions there, not measured).

The activation ranges come from calibration pictures that are neither the quality harness's nor the tests':
the photographs and wallpapers of Debian's `gnome-backgrounds` and `desktop-base` (fetched with `apt-get
download`, pinned) and scikit-image's sample photos other than those the tests use, each whole and as six
random crops fitted to the model's square the way a subject is (`pipeline.square`).

The int8 vectors of a picture are close to the float model's (the manifest records the cosines on the tests'
photos) but not the same: they are never stored, and a search describes the subject it chooses again with the
float model before ranking with it (docs/quality.md).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from importlib import metadata, resources
from pathlib import Path

import numpy as np
import onnxruntime
from onnxruntime.quantization import (  # type: ignore[import-untyped]
    CalibrationDataReader,
    CalibrationMethod,
    QuantFormat,
    QuantType,
    quantize_static,
)
from onnxruntime.quantization.shape_inference import quant_pre_process  # type: ignore[import-untyped]
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from tests.vision.conftest import PHOTOS  # noqa: E402

from lookalike.vision.embedder import MODEL_ASSET, SCREEN_ASSET, Embedder, preprocess  # noqa: E402
from lookalike.vision.pipeline import square  # noqa: E402

ASSETS = ROOT / "src" / "lookalike" / "vision"
DEBIAN = {"gnome-backgrounds": "43.1-1", "desktop-base": "12.0.6+nmu1~deb12u1"}
SUFFIXES = (".jpg", ".webp")  # photographs and painted wallpapers; the .png and .svg are mostly drawings
CROPS = 6  # random subject-like crops of each calibration picture, besides the whole
SEED = 0


def debian_pictures(folder: Path) -> list[Path]:
    for package, version in DEBIAN.items():
        subprocess.run(["apt-get", "download", f"{package}={version}"], cwd=folder, check=True)
    for deb in folder.glob("*.deb"):
        subprocess.run(["dpkg-deb", "-x", str(deb), str(folder / "root")], check=True)
    return sorted(path for path in (folder / "root").rglob("*") if path.suffix in SUFFIXES)


def skimage_pictures() -> list[Path]:
    data = Path(str(resources.files("skimage").joinpath("data")))
    photos = (path for path in data.iterdir() if path.suffix in (".png", ".jpg"))
    return sorted(path for path in photos if path.name not in PHOTOS)  # the tests' are for `parity`


def views(pictures: list[Image.Image], rng: random.Random) -> Iterator[Image.Image]:
    """Each picture whole, as the model sees a scene, and CROPS random crops fitted to its square with their
    own border's colour, as it sees a subject."""
    for picture in pictures:
        yield picture
        width, height = picture.size
        for _ in range(CROPS):
            scale = rng.uniform(0.15, 0.7)
            w = max(16, min(width, int(width * scale * rng.uniform(0.6, 1.4))))
            h = max(16, min(height, int(height * scale * rng.uniform(0.6, 1.4))))
            x, y = rng.randint(0, width - w), rng.randint(0, height - h)
            yield square(picture.crop((x, y, x + w, y + h)))


class Calibration(CalibrationDataReader):  # type: ignore[misc]  # onnxruntime has no type information
    def __init__(self, pictures: list[Image.Image]):
        self.batches = ({"image": preprocess([view])} for view in views(pictures, random.Random(SEED)))

    def get_next(self) -> dict[str, np.ndarray] | None:
        return next(self.batches, None)


def parity(float_model: Embedder, int8_model: Embedder) -> dict[str, float]:
    """Cosine of the two models' vectors of the tests' photos, whole and as crops."""
    data = Path(str(resources.files("skimage").joinpath("data")))
    photos = [Image.open(data / name).convert("RGB") for name in PHOTOS]
    seen = list(views(photos, random.Random(SEED + 1)))
    cosines = (float_model.embed(seen) * int8_model.embed(seen)).sum(axis=1)
    return {
        "pictures": len(seen),
        "mean": round(float(cosines.mean()), 4),
        "min": round(float(cosines.min()), 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=ASSETS / MODEL_ASSET, help="the float model")
    source = parser.parse_args().model
    target = ASSETS / SCREEN_ASSET
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        files = debian_pictures(folder) + skimage_pictures()
        pictures = []
        for path in files:
            picture = Image.open(path).convert("RGB")
            if min(picture.size) >= 64:
                pictures.append(picture)
        prepared = folder / "prepared.onnx"
        quant_pre_process(str(source), str(prepared), skip_symbolic_shape=True)
        quantize_static(
            str(prepared),
            str(target),
            Calibration(pictures),
            quant_format=QuantFormat.QOperator,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            per_channel=True,
            reduce_range=True,  # 7-bit weights: no saturation without VNNI (the docstring)
            calibrate_method=CalibrationMethod.MinMax,
        )
    data = target.read_bytes()
    manifest = {
        "model": "efficientnet-lite0 in int8 (QOperator: 7-bit weights per channel, activations per tensor)",
        "license": "Apache-2.0 (the weights' licence, efficientnet_lite0.json)",
        "from_onnx": source.name,
        "from_onnx_sha256": hashlib.sha256(source.read_bytes()).hexdigest(),
        "tool": {"onnxruntime": onnxruntime.__version__, "onnx": metadata.version("onnx")},
        "calibration": {
            "method": "MinMax",
            "debian": DEBIAN,
            "suffixes": list(SUFFIXES),
            "scikit-image": f"{metadata.version('scikit-image')}: skimage/data photos, not the tests' PHOTOS",
            "pictures": len(pictures),
            "views": len(pictures) * (1 + CROPS),
            "seed": SEED,
        },
        "onnx_file": target.name,
        "onnx_sha256": hashlib.sha256(data).hexdigest(),
        "onnx_bytes": len(data),
        "parity_with_float": parity(Embedder(source), Embedder(asset=SCREEN_ASSET)),
    }
    target.with_suffix(".json").write_text(json.dumps(manifest, indent=1) + "\n")
    print(json.dumps(manifest, indent=1))


if __name__ == "__main__":
    main()
