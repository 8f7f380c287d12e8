"""A learned projection of the descriptor, which orders a search's closest candidates.

A linear map (W, b) of the L2-normalised R-MAC of GeM vector (vision/pooling.py). It was trained once
(tools/train_head.py, on pairs tools/head_pairs.py makes from Debian packages the quality harness does not
use) with a contrastive loss, so that an object as a shopper photographs it (another background, a colour
cast, a shadow, a perspective, blur or noise, JPEG, a loose box) lands closer to its own catalog shot than
to other objects' shots. It ships as a small ONNX graph (tools/head_onnx.py, float16 weights) with its
manifest (sources, recipe, sha256, torch's output for a reference input) beside it.

It is not the stored vector: as a descriptor in its own right it ranks a right box better but makes the
catalog's answer to a wrong box look as convincing, so the search picks the wrong subject more often (on
the quality harness, scene R@1 0.665 -> 0.655 end to end). So the stored vectors and the choice of subject
stay R-MAC's, and the projection only reorders the first few candidates of the ranking (service/rerank.py).

It was trained on the PyPI model's vectors, before the packaged model was fine-tuned (round 31): it still
does nearly all a projection does for the new model's: trained again on them, it found a few products more
first on the quality harness's development split and a few fewer held out (docs/quality.md, round 34).
"""

from __future__ import annotations

import numpy as np

from lookalike.vision.embedder import load_session, normalise

ASSET = "assets/descriptor_projection.onnx"
MANIFEST = "assets/descriptor_projection.json"


class Projection:
    def __init__(self) -> None:
        # One thread: a few vectors a search, where a pool of threads costs more than it saves.
        self.session = load_session(threads=1, asset=ASSET)
        (x,), (y,) = self.session.get_inputs(), self.session.get_outputs()
        self.inputs, self.dim = int(x.shape[1]), int(y.shape[1])

    def __call__(self, vectors: np.ndarray) -> np.ndarray:
        """(n, inputs) L2-normalised vectors -> (n, dim), L2-normalised."""
        (projected,) = self.session.run(["y"], {"x": np.ascontiguousarray(vectors, np.float32)})
        return normalise(projected)

    def closeness(self, queries: np.ndarray, stored: np.ndarray) -> np.ndarray:
        """For each stored vector, its cosine to the closest of the query's vectors, both projected."""
        both = self(np.concatenate([queries, stored]))
        return (both[len(queries) :] @ both[: len(queries)].T).max(axis=1)
