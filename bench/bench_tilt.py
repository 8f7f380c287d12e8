"""How well a box's tilt is read: does `subjects.tilt` say how far a shopper's photo turned the product?

    python bench/bench_tilt.py [--split dev|heldout] [--count 400] [--seed 5]

Lays `--count` of the split's objects (stamps, then rendered models) in its scene photos the way the quality
harness does (`bench/quality/queries.scene_query`: relit, maybe shadowed, warped, turned by up to +-20
degrees, blurred or noisy, JPEG 50-80), records the turn each got, and reads the tilt of each object's true
box from the JPEG. Reports the error (modulo 90 degrees: a box's sides look alike) overall and for the
boxes whose edges agree most, with the share within 5 and 10 degrees; a guess would err 22.5 degrees on
the median.
"""

from __future__ import annotations

import argparse
import io
import random
import sys
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.quality import queries, scenes
from bench.quality.dataset import _mine
from bench.quality.fetch import fetch
from bench.quality.objects import load_renders, load_stamps
from lookalike.vision.subjects import tilt


def turns_recorded() -> list[float]:
    """The angles `scene_query` turns its objects by, in order (it turns them with `expand=True`)."""
    seen: list[float] = []
    rotate = Image.Image.rotate

    def recording(self: Image.Image, angle: float, *args, **kwargs) -> Image.Image:
        if kwargs.get("expand"):
            seen.append(angle)
        return rotate(self, angle, *args, **kwargs)

    Image.Image.rotate = recording  # type: ignore[method-assign]
    return seen


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", default="dev", choices=["dev", "heldout"])
    parser.add_argument("--count", type=int, default=400)
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    sources = fetch()
    stamps, _ = load_stamps(sources["tuxpaint-stamps-default"] / "usr/share/tuxpaint/stamps")
    objects = _mine(stamps, args.split) + _mine(load_renders(sources["renders"]), args.split)
    backgrounds = scenes.scenes(sources, args.split)
    names = sorted(backgrounds)
    rng, turns = random.Random(args.seed), turns_recorded()
    errors, sureness = [], []
    for i, obj in enumerate(objects[: args.count]):
        source = names[i % len(names)]
        query = queries.scene_query(obj, rng.choice(backgrounds[source]), source, seed=args.seed * 1000 + i)
        picture = Image.open(io.BytesIO(query.data)).convert("RGB")
        back, sure = tilt(picture, query.box)
        errors.append(abs((back + turns[-1] + 45) % 90 - 45))  # `back` should undo the turn
        sureness.append(sure)
    error, sure = np.array(errors), np.array(sureness)
    print(f"{len(error)} scene queries of the {args.split} split's objects (seed {args.seed})")
    for share in (1.0, 0.75, 0.5, 0.25):
        least = float(np.quantile(sure, 1 - share))
        kept = error[sure >= least]
        print(
            f"the {share:.0%} surest (sureness >= {least:.3f}): median error {np.median(kept):.1f} degrees, "
            f"within 5: {np.mean(kept < 5):.2f}, within 10: {np.mean(kept < 10):.2f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
