"""Which subject a query means and which category it belongs to, when the caller did not say.

Both ask the instance itself. The first subject the vision found is searched without restriction (a probe of
a few results). When its nearest stored image is not close (its cosine under the descriptor's
`Vision.unsure`), or, in a cluttered photo, close but not found in the picture by its local features (a
scene's wall or sky close to a shop's photo whose stored box is a room's background), the other subjects are
described (screened by the model in 8 bits: vision/pipeline.py) and probed too, and the one whose nearest
stored image is closest is the one the shopper means: a product photographed in a scene matches its own
catalog shot far better than the scene does. A stored image that looks like any background
(vision/background.py) counts for less there, or a box of floor that resembles a soft, plain product would
win. And each stored image counts at the closer of its two views, as its catalog shot shows it and as a
shopper's photo would (vision/softened.py): a small product's subject, blurred and enlarged from a few
pixels, is closer to its softened view. On the quality harness the first subject is right 99 % of the time
when its probe reaches that, and about 60 % below it; three scene queries in four looked further, five in
six since a close find must be found too (round 27). Those also bring the whole picture, which the search
ranks beside the chosen subject, and the rivals: subjects nearly as close as the chosen one, whose products
the search looks for in the picture (service/verify.py).

The category combines two signals: the model's ImageNet classes mapped to categories, and the categories of
the nearest stored images, weighted by how close they are (the catalog teaches the predictor: a shop that
files plush animals under Toy gets Toy for the next plush animal). A weak winner gives Other, which restricts
nothing: a wrong category would hide the right product, a missing one only adds neighbours.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import NamedTuple

import numpy as np

from lookalike.domain.filters import Filter, matches
from lookalike.domain.image import Box, Hit
from lookalike.service.search import Found
from lookalike.store.base import Store
from lookalike.vision.categories import OTHER
from lookalike.vision.pipeline import MAX_OTHERS, Further, View

PROBE = 10  # stored images each subject is compared with
# Other subjects described in all after each step, when the first subject finds nothing close: each step only
# when none before it did. More subjects find more products (9 against 5: scene R@1 +2.9 points on the quality
# harness; 13 against 9: +0.7; 19 against 13, with two detectors' objects: +1.1); the steps spend them only
# where the first ones found nothing.
STEPS = (2, 5, 9, 13, MAX_OTHERS)
# Cosine a subject must beat the one before it in the vision's order by, per place; 0.01 before SMALL,
# which does part of what it did: the later places are mostly the detector's small, unsure objects.
LATER = 0.005
# Cosine a subject loses for each e-fold of the picture it does not fill (a tenth of the picture: 0.023; a
# hundredth: 0.046). A small box is a few pixels enlarged and soft, and a soft crop of anything looks a
# little like many stored products (their softened views most): its nearest is closer than a large box's
# by chance alone. Both chosen on logged searches (round 18, docs/quality.md).
SMALL = 0.01
SMALLEST = 1e-4  # of the picture: a box's share below it counts as this
CLOSENESS = 0.2  # cosine: a neighbour this much further from the query counts e (2.7) times less
MODEL_WEIGHT = 0.5  # the model's scores count as much as one stored image at cosine 0.86
CONFIDENT = 0.5  # a category needs this share of the belief, else Other
WEIGHED = 5  # of a probe's nearest images, weighed by what they are worth when subjects are compared
RIVAL = 0.1  # cosine: a subject whose nearest image is this much further than the chosen one's is no rival
# Cosine at which the nearest stored image is the query's own picture, cropped, resized or recompressed (on
# the quality harness: near-duplicates 0.95-0.97; no scene query's nearest image at 0.8 or more was another
# product's).
SAME_PICTURE = 0.9


def probe(store: Store, collection: str, view: View) -> list[Hit]:
    return store.search(collection, view.vector, limit=PROBE)


class Probe(NamedTuple):
    view: View
    neighbours: list[Hit]  # its PROBE nearest stored images, unfiltered


def nearest_accepted(rivals: Sequence[Probe], filter: Filter | None, first_look: int) -> list[Found]:
    """Each rival's nearest stored image that the filter accepts, if its probe holds one (probes are not
    filtered); its `look` is its place among the rivals after the search's own `first_look` views."""
    best = []
    for place, rival in enumerate(rivals):
        hit = next((hit for hit in rival.neighbours if filter is None or matches(filter, hit.image)), None)
        if hit is not None:
            best.append(Found(hit, first_look + place))
    return best


class Choice(NamedTuple):
    subject: View
    neighbours: list[Hit]  # the subject's probe
    views: list[View]  # more of the picture for the search to rank beside the subject
    rivals: list[Probe]  # the other subjects probed, the closest first: where else the product may be
    others: list[Probe]  # the rest of the subjects probed, the closest first


def best_subject(
    store: Store,
    collection: str,
    first: View,
    further: Callable[[int], Further],
    unsure: float,
    worth: Callable[[Sequence[Hit], Sequence[np.ndarray]], Sequence[float]] | None = None,
    frame: tuple[int, int] | None = None,
    found: Callable[[Hit], bool] | None = None,
) -> Choice:
    """The subject the shopper means, with its probe: the first, unless it finds nothing close (its
    nearest stored image's cosine under `unsure`, `Vision.unsure`) and another subject (described by
    `further(most)` only then) finds something closer, by LATER for each place it stands further down; and,
    in that case, the views of the picture that `further` brings, and the rivals: the other subjects whose
    nearest stored image is nearly as close (within RIVAL, by the same handicap per place), for the search
    to look for in the picture too; and the other subjects probed besides, for the first page to show what
    they found (service/search.py's `with_runners_up`). The other subjects are described in STEPS, each
    only if none of those before it found something close. A subject is weighed by what its WEIGHED
    nearest images are `worth` (by default their cosine; the service takes off how much each looks like
    any background: vision/background.py), less SMALL for each e-fold of the `frame` (the picture's width
    and height) its box does not fill. Where `found` tells whether a stored image is found in the picture
    (service/verify.py), a first subject whose nearest stored image is close but not found there looks
    further too: a small product's first subject is often something else, which some other product
    resembles closely enough."""
    hits = probe(store, collection, first)
    if not hits or (hits[0].score >= unsure and (found is None or found(hits[0]))):
        return Choice(first, hits, [], [], [])
    probes = [Probe(first, hits)]
    for most in STEPS:
        more = further(most)
        probes += [Probe(other, probe(store, collection, other)) for other in more.others[len(probes) - 1 :]]
        if len(more.others) < most or any(n and n[0].score >= unsure for _, n in probes[1:]):
            break

    if len(probes) == 1:  # no other subject to weigh the first against
        return Choice(first, hits, more.around, [], [])

    # A box around any stretch of background has some stored image that looks a little like it: the
    # further down the vision's order a subject stands, the closer its neighbour must be to win.
    weighed = [neighbours[:WEIGHED] for _, neighbours in probes]
    flat = [hit for hits in weighed for hit in hits]  # one call of `worth`: one read of the store
    queries = [view.vector for view, neighbours in probes for _ in neighbours[:WEIGHED]]
    values = iter([hit.score for hit in flat] if worth is None else worth(flat, queries))
    merits = [max((next(values) for _ in hits), default=-1.0) for hits in weighed]

    # A small box's nearest is close by chance more often (SMALL).
    small = [0.0 if frame is None else -SMALL * math.log(_share(view.region, frame)) for view, _ in probes]

    def merit(place: int) -> float:
        return merits[place] - place * LATER - small[place]

    best, *rest = sorted(range(len(probes)), key=merit, reverse=True)  # stable: ties keep the vision's order
    chosen, neighbours = probes[best]
    rivals = [probes[place] for place in rest if merit(place) >= merit(best) - RIVAL]
    return Choice(chosen, neighbours, more.around, rivals, [probes[place] for place in rest[len(rivals) :]])


def _share(box: Box, frame: tuple[int, int]) -> float:
    """The share of the frame's area the box covers, at least SMALLEST."""
    return max(SMALLEST, box.width * box.height / max(1, frame[0] * frame[1]))


def predict_category(model_scores: dict[int, float], neighbours: Sequence[Hit]) -> int:
    """The category with most of the belief, if it has at least CONFIDENT of it; else Other.

    Each neighbour gives its own category a vote of exp((cosine - 1) / CLOSENESS): 1 for the identical
    image, 0.37 at cosine 0.8, little for the unrelated ones that every probe returns too. The model's scores
    add up to MODEL_WEIGHT: a shop's label on the same product outweighs the model's guess. A neighbour at
    SAME_PICTURE or closer is the picture itself, which the shop filed already: its category is the
    answer, whatever the other neighbours say (ten similar-looking products of another category outvoted
    it, and the category predicted then hid it from its own search). Filed under several categories, it is
    Other: any one of them would hide the others.
    """
    same = {hit.image.category_id for hit in neighbours if hit.score >= SAME_PICTURE}
    if same:
        return same.pop() if len(same) == 1 else OTHER
    belief = {category: MODEL_WEIGHT * share for category, share in (model_scores or {OTHER: 1.0}).items()}
    total = MODEL_WEIGHT
    for hit in neighbours:
        vote = math.exp((hit.score - 1.0) / CLOSENESS)
        belief[hit.image.category_id] = belief.get(hit.image.category_id, 0.0) + vote
        total += vote
    category, share = max(belief.items(), key=lambda item: item[1])
    return category if share / total >= CONFIDENT else OTHER
