"""How much a stored image looks like any background: the descriptor's hubness, measured against a bank.

Some stored products are near whatever a box of a cluttered photo holds: a soft, plain, brownish product
is as close to a stretch of wooden floor as to its own shopper's photo. When a search weighs the subjects
of a photo by their nearest stored image, such a product makes a box of background win. The bank
(`tools/background_bank.py`) holds the descriptor's vectors of the subject boxes a search finds in photos
with no product of any catalog; a stored vector's `commonness` is its mean cosine with its TOP nearest in
the bank, and a match is worth its cosine less WEIGHT times that (the hubness correction of cross-domain
similarity local scaling, Conneau et al. 2018, with the bank as the other domain).

The bank ships as a small ONNX graph (the product with the bank, its TOP largest, their mean; float16
weights) run on one thread: numpy's matrix product would spread a search's few vectors over OpenBLAS's
threads, whose spinning cost ten times the CPU of the product itself.
"""

from __future__ import annotations

import numpy as np

from lookalike.vision.embedder import load_session

ASSET = "assets/background_bank.onnx"
MANIFEST = "assets/background_bank.json"
TOP = 10  # nearest bank vectors averaged (the graph's TopK)
# Of the commonness, taken off a match's cosine. Chosen on the development split, whose scene photos the bank
# holds: 0.75 gained there and lost on both held-out sets (docs/quality.md, round 40).
WEIGHT = 0.5


class Background:
    def __init__(self) -> None:
        self.session = load_session(threads=1, asset=ASSET)
        (x,) = self.session.get_inputs()
        self.dim = int(x.shape[1])

    def commonness(self, vectors: np.ndarray) -> np.ndarray:
        """(n,): each L2-normalised vector's mean cosine with its TOP nearest bank vectors."""
        if len(vectors) == 0:
            return np.zeros(0, np.float32)
        (common,) = self.session.run(["commonness"], {"x": np.ascontiguousarray(vectors, np.float32)})
        return common

    def penalties(self, vectors: np.ndarray) -> np.ndarray:
        """(n,): what each vector's matches are worth less in cosine."""
        return WEIGHT * self.commonness(vectors)
