"""How the model's feature map becomes one vector: the global descriptor of a picture or a region.

The map is the backbone's last activation, (n, channels, 7, 7) for a 224x224 input, non-negative (ReLU6).

- `features`: the model's own `features` output; for the packaged EfficientNet-Lite0, the plain average of
  every cell. Vectors stored before the pooling was a choice were made this way, so data directories
  holding them keep it; so does an image model given with a text tower, whose `features` are what the text
  tower was trained against.
- `rmac-gem3` (the default): regional pooling (R-MAC, Tolias et al. 2016) with a generalised mean (GeM,
  p = 3, Radenovic et al. 2018) in each region. The whole map and 4 + 9 overlapping square regions of
  it (sides 5 and 4 cells) are each pooled, L2-normalised and summed: every part of the picture gets a say
  of its own, so a product seen at an angle, partly shadowed or on a cluttered background still matches its
  catalog shot by the parts that look alike. GeM leans each channel towards its strongest cells, which the
  plain average smooths away.

On the quality harness's development split (three seeds, true box given, the descriptor alone), R@1 of
scene queries rises from 0.784 to 0.808 on the mean and from 0.773 to 0.798 on the worst seed; stamps,
furniture, the other side of a model and small objects all gain, large objects (15-40 % of the frame) hold
on the mean and lose 2 points on their worst seed. docs/quality.md has the figures and what lost. It costs
0.3 ms of CPU a map beside the model's 6-7 ms pass.
"""

from __future__ import annotations

from functools import cache

import numpy as np

RMAC_LEVELS = 3  # level l has l x l regions of side 2 * side / (l + 1): the whole map, 2x2, 3x3


@cache  # a search pools three maps or so, of one size
def rmac_regions(side: int, levels: int = RMAC_LEVELS) -> tuple[tuple[int, int, int], ...]:
    """(top, left, size) of the square regions of a side x side map, each level's l positions a side
    evenly spread (rounded to cells; the whole map is level 1)."""
    regions: set[tuple[int, int, int]] = set()
    for level in range(1, levels + 1):
        size = max(1, round(2 * side / (level + 1)))
        for y in np.linspace(0, side - size, level).round().astype(int):
            for x in np.linspace(0, side - size, level).round().astype(int):
                regions.add((int(y), int(x), size))
    return tuple(sorted(regions))


def rmac_gem(maps: np.ndarray) -> np.ndarray:
    """Sum of the L2-normalised GeM pools of the R-MAC regions (not normalised itself)."""
    n, channels, height, width = maps.shape
    if height != width:
        raise ValueError(f"rmac_gem expects a square feature map, got {height}x{width}")
    # Channels last, so that a region's sum adds whole rows of channels: 3x faster than pooling (2, 3).
    clipped = np.maximum(maps.transpose(0, 2, 3, 1), np.float32(1e-6), order="C")
    cubed = clipped * clipped
    cubed *= clipped
    total = np.zeros((n, channels), np.float32)
    for y, x, size in rmac_regions(height):
        pooled = np.cbrt(cubed[:, y : y + size, x : x + size].sum(axis=(1, 2)) / (size * size))
        total += pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
    return total


FEATURES = "features"  # the model's own output, no pooling here
DEFAULT = "rmac-gem3"
POOLINGS = (FEATURES, DEFAULT)
# The cosine under which a query's nearest stored image is probably not its product, so that the search
# looks further. R-MAC's cosines run higher (a median 0.57 against 0.51 for the nearest image of a located
# scene query on the quality harness): at these values two thirds of them look further under both, and the
# nearest image is the right one for 96-97 % of those that do not. The packaged model, fine-tuned for
# shoppers' views (round 31), brings a view nearer its product, so R-MAC's is 0.67 where it was 0.65: end to
# end 0.3 points more scenes first than at 0.65 on both catalogs' development split (docs/quality.md).
UNSURE = {FEATURES: 0.6, DEFAULT: 0.67}
