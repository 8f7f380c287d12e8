"""The first candidates of a ranking put in the order of the learned projection (vision/projection.py).

The global ranking is R-MAC's: the stored vectors and the choice of subject are. The projection, trained so
that a shopper's view of an object lands closer to its catalog shot, tells the closest few apart better (on
the quality harness, R@1 of a model seen from another side +3 points), at the cost of reading those few
candidates' vectors back. A candidate that looks like any background (vision/background.py) counts its
penalty off its closeness, and one whose colours are like those of the view it was found by
(vision/colour.py) counts that likeness onto it: the global vector, trained to name objects whatever their
colour, takes a red chair for a blue one of its cut (on the quality harness, scene R@1 with the true box as
Region +0.7 points on the development split and +2.0 held out: round 11); and so does its likeness in finer
detail (vision/detail.py: an earlier stage of the same model pass, which still sees patterns, parts and
print; round 12). Each candidate is projected at the closer of its two stored views, as its catalog shot
shows it and as a shopper's photo would (vision/softened.py; round 13), and, where the caller gave a Region
smaller than that softened view, also at the Region's own size (round 42). Only the order changes; a page
then lowers the scores of the results a moved one passed to its own (search.page_of), so that scores
never rise down a page.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from lookalike.domain.image import Hit, ImageKey
from lookalike.service.search import Found
from lookalike.store.base import Store
from lookalike.vision.background import Background
from lookalike.vision.projection import Projection

# Each candidate's likeness to the query (in colour, in detail: 0 to 1), or None when some are not known.
Likeness = Callable[[Sequence[Found]], "np.ndarray | None"]
# Stored images' softened vectors (vision/softened.py), one a row, or None when some are not known.
Softened = Callable[[Sequence[ImageKey]], "np.ndarray | None"]
COLOURS = "colours"  # the kind of side file that holds a stored image's colour signature (vision/colour.py)
DETAILS = "detail"  # the kind of side file that holds a stored image's finer detail (vision/detail.py)
SOFTENED = "softened"  # the kind that holds a stored image's vector as a shopper sees it (vision/softened.py)
SOFTENED_PICTURE = "softened-picture"  # the kind that holds that view itself, a small JPEG
RERANK = 5  # candidates reordered: 3 give most of it, 10 no more
# Of the colours' likeness (0 to 1), beside the projected closeness, whose spread over the five is about
# as wide (medians 0.28-0.30 and 0.26-0.31). With the true box, offline, R@1 rose with it to 0.2-0.3 on both
# splits and fell back at 0.5; end to end 0.2 and 0.3 answered alike, and 0.3 lost no source's worst seed.
COLOUR_WEIGHT = 0.3
DETAIL_WEIGHT = 1.0  # of the detail's cosine, whose spread over the five is narrower


def closest_first(
    store: Store,
    collection: str,
    ranking: list[Found],
    queries: Sequence[np.ndarray],
    projection: Projection,
    background: Background | None = None,
    colours: Likeness | None = None,
    details: Likeness | None = None,
    softened: Softened | None = None,
    at_size: Softened | None = None,
) -> list[Found]:
    """The ranking with its first RERANK candidates ordered by their projected closeness to the query's
    vectors (each candidate at its closest, of its stored vector, its `softened` one and, for a caller's
    small Region, its vector `at_size`), less its
    `background` penalty, plus its likeness in `colours` and `details` (0 to 1 each); a candidate deleted
    meanwhile leaves the ranking as it was."""
    head = ranking[:RERANK]
    if len(head) < 2:
        return ranking
    keys = [found.hit.image.key for found in head]
    stored = {image.key: image.vector for image in store.get(collection, keys, with_vectors=True)}
    vectors = [vector for key in keys if (vector := stored.get(key)) is not None]
    if len(vectors) < len(head):
        return ranking
    closeness = projection.closeness(np.stack(queries), np.stack(vectors))
    if softened is not None and (other := softened(keys)) is not None:
        closeness = np.maximum(closeness, projection.closeness(np.stack(queries), other))
    if at_size is not None and (other := at_size(keys)) is not None:
        closeness = np.maximum(closeness, projection.closeness(np.stack(queries), other))
    if background is not None:
        closeness = closeness - background.penalties(np.stack(vectors))
    if colours is not None and (alike := colours(head)) is not None:
        closeness = closeness + COLOUR_WEIGHT * alike
    if details is not None and (alike := details(head)) is not None:
        closeness = closeness + DETAIL_WEIGHT * alike
    order = sorted(range(len(head)), key=lambda i: -closeness[i])
    return [head[i] for i in order] + ranking[RERANK:]


def worth(
    store: Store, collection: str, background: Background | None, softened: Softened | None = None
) -> Callable[[Sequence[Hit], Sequence[np.ndarray]], list[float]]:
    """What each hit is worth to the query vector it was found by: its cosine, or its `softened` vector's
    if closer, less its stored image's background penalty (none without a bank); each image's vector read
    once, whatever the calls."""
    known: dict[ImageKey, float] = {}

    def of(hits: Sequence[Hit], queries: Sequence[np.ndarray]) -> list[float]:
        missing = list({hit.image.key for hit in hits} - known.keys())
        if background is not None and missing:
            read = store.get(collection, missing, with_vectors=True)
            vectors = {image.key: vector for image in read if (vector := image.vector) is not None}
            if vectors:
                penalties = background.penalties(np.stack(list(vectors.values())))
                known.update(zip(vectors, penalties.tolist(), strict=True))
        scores = [hit.score for hit in hits]
        if hits and softened is not None and (other := softened([hit.image.key for hit in hits])) is not None:
            scores = np.maximum(scores, np.einsum("nd,nd->n", other, np.stack(queries))).tolist()
        return [score - known.get(hit.image.key, 0.0) for hit, score in zip(hits, scores, strict=True)]

    return of
