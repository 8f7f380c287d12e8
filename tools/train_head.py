"""Train a projection head of the descriptor on the pairs tools/head_pairs.py made, and write its weights
(.npz, float16) with a manifest (sources, recipe, validation R@1, torch's output for a reference input).

Lookalike ships such a head (tools/head_onnx.py writes it as vision/assets/descriptor_projection.onnx) to
order a search's closest five (service/rerank.py); as the stored vector itself it ranked a right box better
and chose the wrong box more often, end to end a loss (docs/quality.md, the table of what was tried). The
shipped head was trained with the defaults of head_pairs.py and `--dim 1280 --epochs 10`; 2.8 times the
pairs (`--crops 18 --views 6`) raised its validation R@1 by three points and the harness by nothing it
could keep (docs/quality.md, round 19).

The head maps a region's descriptor (the L2-normalised R-MAC of GeM pooling of EfficientNet-Lite0's map,
vision/pooling.py) to a new L2-normalised vector, trained with a symmetric InfoNCE loss so that an object
photographed by a shopper lands close to its own catalog shot and away from every other object's shot in
the batch. Torch is needed only here, never at run time:

    python3 -m venv /work/venv-head && /work/venv-head/bin/pip install torch==2.13.0 numpy
    /work/venv-head/bin/python tools/train_head.py PAIRS.npz --out HEAD.npz

The head's form (`--form`):
- `linear`: y = x W + b, W (1280, dim), initialised from the top `dim` principal directions of the
  training vectors;
- `residual`: y = x + (x W1 + b1) W2 (a bottleneck of `dim`, its second layer starting at zero: the head
  starts as the identity and learns a correction).
Training is seeded and single-threaded, so a run gives the same head.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

REFERENCE_SEED = 20261202
LICENCES = {
    "pictures": "gcompris-qt-data 3.1-2 and lomiri-wallpapers-20.04 20.04.0-2 (Debian): each picture under"
    " its own licence in the package's debian/copyright (public domain, CC0, CC-BY, CC-BY-SA, GPL-3);"
    " no picture is shipped, only weights trained on them",
    "weights": "Apache-2.0, as the EfficientNet-Lite0 weights whose features they project",
}


class Head(nn.Module):
    def __init__(self, form: str, inputs: int, dim: int, basis: np.ndarray):
        super().__init__()
        self.form = form
        self.first = nn.Linear(inputs, dim)
        if form == "linear":
            with torch.no_grad():
                self.first.weight.copy_(torch.from_numpy(basis[:, :dim].T.copy()))
                self.first.bias.zero_()
        else:
            self.second = nn.Linear(dim, inputs)
            nn.init.zeros_(self.second.weight)
            nn.init.zeros_(self.second.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.first(x) if self.form == "linear" else x + self.second(F.relu(self.first(x)))
        return F.normalize(y, dim=-1)

    def arrays(self) -> dict[str, np.ndarray]:
        """Its weights, (in, out) matrices, as numpy applies them: y = x W + b."""
        out = {"W": self.first.weight.detach().numpy().T.copy(), "b": self.first.bias.detach().numpy().copy()}
        if self.form == "residual":
            out["W2"] = self.second.weight.detach().numpy().T.copy()
            out["b2"] = self.second.bias.detach().numpy().copy()
        return {name: array.astype(np.float32) for name, array in out.items()}


def recall_at_1(head: Head, catalog: np.ndarray, views: np.ndarray, gallery: np.ndarray) -> float:
    """Of each view, whether its own catalog shot comes first among `gallery` (its own shots first)."""
    with torch.no_grad():
        g = head(torch.from_numpy(gallery))
        q = head(torch.from_numpy(views.reshape(-1, views.shape[-1])))
        own = torch.arange(len(catalog)).repeat_interleave(views.shape[1])
        return float(((q @ g.T).argmax(dim=1) == own).float().mean())


def train(pairs: dict[str, np.ndarray], args: argparse.Namespace) -> tuple[Head, list[dict[str, float]]]:
    torch.manual_seed(args.seed)
    torch.set_num_threads(1)
    rng = np.random.default_rng(args.seed)
    val = pairs["val"]
    catalog, views = pairs["catalog"][~val], pairs["views"][~val]
    vcat, vviews = pairs["catalog"][val], pairs["views"][val]
    everything = np.concatenate([catalog, views.reshape(-1, views.shape[-1])])
    centred = everything - everything.mean(axis=0)
    _, singular, rows = np.linalg.svd(centred, full_matrices=False)
    basis = rows.T  # (inputs, inputs), the principal directions, by falling variance
    if args.whiten:  # each direction scaled to unit variance, shrunk towards the mean eigenvalue
        eigen = singular**2 / len(centred)
        basis = basis / np.sqrt(eigen + args.whiten * eigen.mean()) * np.sqrt(eigen.mean())
    head = Head(args.form, catalog.shape[1], args.dim, basis.astype(np.float32))
    optimiser = torch.optim.AdamW(head.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    scale = 1 / args.temperature
    history = []
    val_gallery = np.concatenate([vcat, catalog])  # the validation objects among every other
    for epoch in range(args.epochs):
        order = rng.permutation(len(catalog))
        for start in range(0, len(order) - args.batch + 1, args.batch):
            chosen = order[start : start + args.batch]
            view = views[chosen, rng.integers(0, views.shape[1], len(chosen))]
            c, v = head(torch.from_numpy(catalog[chosen])), head(torch.from_numpy(view))
            logits = v @ c.T * scale
            target = torch.arange(len(chosen))
            loss = (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target)) / 2
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
        score = recall_at_1(head, vcat, vviews, val_gallery)
        history.append(
            {"epoch": epoch + 1, "loss": round(float(loss.detach()), 4), "val_r1": round(score, 4)}
        )
        print(f"epoch {epoch + 1}: loss {float(loss.detach()):.3f}, validation R@1 {score:.3f}", flush=True)
    return head, history


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pairs", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--form", choices=("linear", "residual"), default="linear")
    parser.add_argument("--dim", type=int, default=512)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--weight-decay", type=float, default=1e-4)
    parser.add_argument("--temperature", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=20261202)
    parser.add_argument("--whiten", type=float, default=0.0, help="start whitened, shrunk by this (0: not)")
    parser.add_argument("--descriptor", default="rmac-gem3-proj1", help="the name vectors get in the record")
    args = parser.parse_args()
    with np.load(args.pairs) as loaded:
        pairs = {name: loaded[name] for name in loaded.files}
    print(f"{len(pairs['catalog'])} objects ({int(pairs['val'].sum())} for validation)", flush=True)
    before = recall_at_1(
        Head("residual", pairs["catalog"].shape[1], 8, np.eye(pairs["catalog"].shape[1], dtype=np.float32)),
        pairs["catalog"][pairs["val"]],
        pairs["views"][pairs["val"]],
        np.concatenate([pairs["catalog"][pairs["val"]], pairs["catalog"][~pairs["val"]]]),
    )
    print(f"validation R@1 without a head: {before:.3f}", flush=True)
    head, history = train(pairs, args)
    arrays = {name: array.astype(np.float16) for name, array in head.arrays().items()}  # half the bytes
    np.savez(args.out, **arrays)
    recipe = {name: str(value) for name, value in vars(args).items() if name not in ("pairs", "out")}
    manifest = {
        "descriptor": args.descriptor,
        "form": args.form,
        "inputs": int(pairs["catalog"].shape[1]),
        "dim": args.dim,
        "file": args.out.name,
        "sha256": hashlib.sha256(args.out.read_bytes()).hexdigest(),
        "bytes": args.out.stat().st_size,
        "dtype": "float16, applied in float32",
        "pairs": {
            "sha256": hashlib.sha256(args.pairs.read_bytes()).hexdigest(),
            "objects": len(pairs["catalog"]),
            "views_each": int(pairs["views"].shape[1]),
            "validation_objects": int(pairs["val"].sum()),
            "made_by": json.loads(str(pairs["recipe"])) if "recipe" in pairs else None,
        },
        "licences": LICENCES,
        "tools": {"torch": torch.__version__, "numpy": np.__version__},
        "recipe": recipe,
        "validation_r1": {"without": before, "with": history[-1]["val_r1"]},
        "reference": reference(arrays),
    }
    args.out.with_suffix(".json").write_text(json.dumps(manifest, indent=1) + "\n")
    return 0


def reference(arrays: dict[str, np.ndarray]) -> dict[str, object]:
    """A seeded input and what the shipped (float16) weights make of it, computed by torch: the parity test
    of whatever applies the weights at run time must find the same."""
    rng = np.random.default_rng(REFERENCE_SEED)
    x = np.abs(rng.normal(size=(1, arrays["W"].shape[0]))).astype(np.float32)
    x /= np.linalg.norm(x)
    with torch.no_grad():
        y = torch.from_numpy(x) @ torch.from_numpy(arrays["W"].astype(np.float32))
        y = F.normalize(y + torch.from_numpy(arrays["b"].astype(np.float32)), dim=-1)
    return {
        "seed": REFERENCE_SEED,
        "how": "abs(np.random.default_rng(seed).normal(size=(1, inputs))) as float32, L2-normalised",
        "output": [round(float(v), 6) for v in y[0]],
        "tolerance": 1e-5,
    }


if __name__ == "__main__":
    raise SystemExit(main())
