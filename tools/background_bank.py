"""Build the background bank (vision/background.py): the descriptor's vectors of what a search's subject
boxes land on in photos that hold no product of any catalog.

The photos: landscapes and textures with no object in them: the wallpapers of Debian's
lomiri-wallpapers-20.04 (tools/head_pairs.py's, checked disjoint from the quality harness's pictures) and
the quality harness's development split's scene photos (bench/quality/scenes.py; never its held-out
split's, which stays for reporting). Not gcompris's photos, which head_pairs.py also reads: most of them
are of an animal, a tool or a monument, the very things a catalog holds, and a bank of them made such
products count for less (on the development split, lomiri's scene R@1 0.665 -> 0.642). Each photo gives
`--frames` shopper's frames (a random part of it, 800 px on the longer side, JPEG 85); each frame is looked
at as a search looks at a cluttered photo (Vision.see, then `further`: the activations' subjects and the
detectors' objects) and every subject found is described by the float model, as a search's chosen subject
is. `--size` of those vectors, drawn with a fixed seed, are written as the graph vision/background.py runs
(float16 weights), with a manifest (sources, recipe, sha256). The bank shipped was built before NanoDet
joined CenterNet (round 20): with CenterNet's objects only. Rebuilt with both detectors' objects (round 21)
it lost the development split and was left out (docs/quality.md); so does this tool's recipe run with
today's vision, which finds about twice the subjects in the same frames (round 40). The bank holds the
development split's scene photos: a change to it is judged held out, or on a source whose photos it leaves
out (round 40: they flatter their own source by 2-3 points of scene R@1).

    python tools/background_bank.py --cache /work/pairs-cache
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import random
import sys
from pathlib import Path

import numpy as np
from onnx import TensorProto, helper, numpy_helper
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tools/ and bench/, run as a script

from bench.quality import fetch as registries
from bench.quality.scenes import SOURCES, scenes
from tools.head_pairs import DEBIAN, _background, checked_sources, source_arguments

from lookalike.vision.background import ASSET, MANIFEST, TOP
from lookalike.vision.detector import Detector
from lookalike.vision.embedder import Embedder
from lookalike.vision.pipeline import MAX_OTHERS, Vision
from lookalike.vision.pooling import DEFAULT

ASSETS = Path(__file__).resolve().parents[1] / "src" / "lookalike" / "vision"


def frame(photo: Image.Image, rng: random.Random) -> bytes:
    out = io.BytesIO()
    _background(photo, rng).convert("RGB").save(out, "JPEG", quality=85)
    return out.getvalue()


def graph_bytes(bank: np.ndarray) -> bytes:
    """commonness (n,) = the mean of the TOP largest of x (n, dim) times the bank's transpose."""
    nodes = [
        helper.make_node("Cast", ["bank16"], ["bank"], to=TensorProto.FLOAT),
        helper.make_node("MatMul", ["x", "bank"], ["closeness"]),
        helper.make_node("TopK", ["closeness", "top"], ["nearest", "which"], axis=1),
        helper.make_node("ReduceMean", ["nearest"], ["commonness"], axes=[1], keepdims=0),
    ]
    graph = helper.make_graph(
        nodes,
        "background_bank",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", bank.shape[1]])],
        [helper.make_tensor_value_info("commonness", TensorProto.FLOAT, ["n"])],
        [
            numpy_helper.from_array(bank.T.astype(np.float16), "bank16"),
            numpy_helper.from_array(np.array([TOP], np.int64), "top"),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8  # what onnxruntime >= 1.18 reads
    return bytes(model.SerializeToString())


def subject_vectors(vision: Vision, data: bytes) -> np.ndarray:
    """Every subject a search would look at in the picture, described by the float model."""
    sight = vision.see(data)
    if sight.may_see_more:
        sight.further(MAX_OTHERS)
    return np.stack([view.vector for view in vision.describe(sight.picture, sight.subjects)])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    source_arguments(parser)
    parser.add_argument("--frames", type=int, default=8, help="frames cut from each photo")
    parser.add_argument("--size", type=int, default=1024, help="vectors kept")
    parser.add_argument("--seed", type=int, default=20261204)
    args = parser.parse_args()
    sources = checked_sources(args.cache, args.bench_cache)
    vision = Vision(Embedder(threads=1, pooling=DEFAULT), detector=Detector(threads=1))
    photos = [photo for name, photo in sorted(sources.photos.items()) if name.startswith("lomiri-20.04/")]
    dev_scenes = [photo for _, some in sorted(scenes(registries.fetch(), "dev").items()) for photo in some]
    rng = random.Random(args.seed)
    vectors = [
        subject_vectors(vision, frame(photo, rng))
        for photo in photos + dev_scenes
        for _ in range(args.frames)
    ]
    pool = np.concatenate(vectors)
    chosen = np.random.default_rng(args.seed).choice(len(pool), min(args.size, len(pool)), replace=False)
    bank = pool[np.sort(chosen)]
    path = ASSETS / ASSET
    path.write_bytes(data := graph_bytes(bank))
    manifest = {
        "what": "descriptor vectors of subject boxes in photos of no product (vision/background.py)",
        "descriptor": DEFAULT,
        "debian": {"lomiri-wallpapers-20.04": DEBIAN["lomiri-wallpapers-20.04"]},
        # The harness's scene packages (each picture under its package's licence: bench/quality/fetch.py).
        "scene_packages": {
            source.package: {**registries.DEBIAN, **registries.PYPI}[source.package] for source in SOURCES
        },
        "pictures": f"the {len(photos)} wallpapers of lomiri-wallpapers-20.04 (none of them the quality"
        f" harness's: tools/head_pairs.py's disjoint) and the {len(dev_scenes)} scene photos of the quality"
        " harness's development split (bench/quality/scenes.py); only vectors are shipped",
        "license": "Apache-2.0 (vectors of the EfficientNet-Lite0 weights' features)",
        "recipe": {
            "frames": args.frames,
            "seed": args.seed,
            "subjects": len(pool),
            "kept": len(bank),
            "top": TOP,
        },
        "file": ASSET.rsplit("/", 1)[-1],
        "sha256": hashlib.sha256(data).hexdigest(),
        "bytes": len(data),
    }
    (ASSETS / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n")
    print(f"{len(bank)} of {len(pool)} subject vectors of {len(vectors)} frames -> {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
