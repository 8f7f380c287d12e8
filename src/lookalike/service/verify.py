"""Geometric verification of a search's best candidates: the stored products found in the query picture
(vision/local.py) move up, the most surely found first (their matches weighed by their likeness in colour:
ORB sees grey), and the first one's Region is where it was found.

Only as much as the global ranking leaves open is checked. When the first result is close (cosine >= SURE)
and clearly ahead of the second (by MARGIN), the ranking stands, and only the first is checked, for a
precise Region in a cluttered photo; otherwise the first CANDIDATES are, and the nearest stored image of
each rival subject (service/categorize.py): the search chose one subject of the picture by its nearest
stored image, and the product may be another's, which the ranking does not hold at all. The rule calls
681 of the quality harness's 1,092 dev scene queries sure (3 seeds), and every near-duplicate; 38 of the
681 had the wrong product first, and checking the next candidates and the rivals of a sure first result
that is not found in the picture gained nothing there (round 11: dev R@1 +0.3 points, held out -0.2).
Verification is spent where the ranking can gain.

Where the first result was found, its Region, is the stored product carried into the picture by the
fitted map (`local.carried_region`): tighter than the box the search found it by, which takes in some of
the product's surroundings. Each errs its own way (the carried box as the stored box erred, and by a turned
product's rectangle), so where the two agree the Region lies between them (`placed`).

A small product gives the whole picture's features few matches: a catalog shot's features lie at its own
scale, several times the product's in a shopper's photo. A candidate the whole picture does not verify is
looked for again in the box the search found it by, enlarged to a catalog shot's size
(`local.extract_enlarged`).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import NamedTuple

from lookalike.domain.image import Box, Hit, ImageKey
from lookalike.service.rerank import Likeness
from lookalike.service.search import Found
from lookalike.vision.local import MIN_INLIERS, Features, Match, verify

FEATURES = "features"  # the kind of side file that holds a stored image's local features
CANDIDATES = 3  # of the global ranking, checked when it is unsure: 5 cost 3-4 ms more for 0.2 points of R@1
SURE = 0.6  # cosine of the first result
MARGIN = 0.05  # of cosine, between the first result and the second
# Agreeing matches from which the query holds a copy of the stored picture (resized, recompressed, cropped):
# on the quality harness (styled catalog, development split, seed 11) a near-duplicate's match had 76-316 of
# them but one (13), a scene query's 10-78, 6 of 36 at 50 or more.
COPY = 50
# Where the carried box and the box the search found the product by agree (IoU >= AGREE), the Region is
# the carried box moved TOWARD of the way to the other. Round 35, on the quality harness's scene queries (3
# seeds, by 0.01 of IoU or more): development split, 147 and 160 Regions closer to the product and 57 and
# 66 less close (styled and white catalog), every seed's mean IoU up; held out, 103 and 98 closer, 23 and 40
# less close. No answer changed.
AGREE = 0.5
TOWARD = 0.3


class Verified(NamedTuple):
    ranking: list[Found]
    region: Box | None  # where the first result was found in the query picture, if it was
    found: int = 0  # how many of the ranking's first results were found in the picture
    matches: tuple[Match, ...] = ()  # of each of those, how it was found there


def is_sure(ranking: Sequence[Found]) -> bool:
    first = ranking[0].hit.score
    return first >= SURE and (len(ranking) == 1 or first - ranking[1].hit.score >= MARGIN)


def is_found(
    query: Callable[[], Features],
    stored: Features | None,
    box: Box,
    size: tuple[int, int],
    closer: Callable[[], Features | None] = lambda: None,
) -> bool:
    """Whether a stored image whose features are `stored` (its product's box `box`) is found in the query
    picture of `size`: by the whole picture's features, or by `closer` ones (a small box enlarged). An
    image stored without features, or with too few ever to be found (a plain, flat product), cannot be
    told from any other: it counts as found."""
    if stored is None or len(stored) < MIN_INLIERS:
        return True
    if verify(query(), stored, box, *size) is not None:
        return True
    enlarged = closer()
    return enlarged is not None and verify(enlarged, stored, box, *size) is not None


def placed(match: Match, found_by: Box) -> Box:
    """Where a product verified in the query picture is, given the box the search found it by: its carried
    box, moved toward the found box where they agree. A copy of the stored picture (COPY agreeing
    matches or more) is carried over exactly, and a box enlarged for a second look is its own Region."""
    region = match.region
    if match.inliers >= COPY or region.iou(found_by) < AGREE:
        return region
    return region.toward(found_by, TOWARD)


def verified_first(
    ranking: list[Found],
    query: Callable[[], Features],
    stored: Callable[[ImageKey], Features | None],
    size: tuple[int, int],
    *,
    region_wanted: bool = True,
    rivals: Sequence[Found] = (),
    same: Callable[[Hit], Hashable] = lambda hit: hit.image.key,
    closer: Callable[[Found], Features | None] = lambda found: None,
    colours: Likeness | None = None,
) -> Verified:
    """The ranking with its verified candidates first, by how many matches agree, the others after them
    in their order. `query` gives the query picture's features (asked for only if a candidate has some);
    `stored`, a stored image's (None if it has none); `size`, the query picture's. Without
    `region_wanted`, a sure ranking is left as it is.

    An unsure ranking also has its `rivals` checked: the best results of the picture's other subjects,
    which the ranking may not hold at all (the search chose another subject). A rival found in the
    picture joins the verified ones; one that is not stays out. `same` tells which entries are one result
    (the image, or the product with DistinctProductId). `closer` gives a candidate of an unsure ranking
    that the whole picture's features do not find a second chance: the features of the box it was found
    by, enlarged (None when that box is not small). `colours` weighs each verified candidate's matches by
    its likeness in colour to the query (none when it gives None)."""
    if not ranking:
        return Verified(ranking, None)
    sure = is_sure(ranking)
    if sure and not region_wanted:
        return Verified(ranking, None)
    checked = ranking[: 1 if sure else CANDIDATES]
    if not sure:
        seen = {same(found.hit) for found in checked}
        for rival in rivals:
            if same(rival.hit) not in seen:
                seen.add(same(rival.hit))
                checked.append(rival)
    matches = []
    for place, found in enumerate(checked):
        features = stored(found.hit.image.key)
        if features is None:
            continue
        match = verify(query(), features, found.hit.image.region, *size)
        # A sure ranking stands, and an enlarged box found its product where the box already says.
        if match is None and not sure and (enlarged := closer(found)) is not None:
            match = verify(enlarged, features, found.hit.image.region, *size)
        if match is not None:
            matches.append((match, place))
    if not matches:
        return Verified(ranking, None)
    # The most matches first, each count weighed by the candidate's likeness in colour (ORB sees grey: a
    # product's colour variants, a shoe in red and in blue, match alike); stable: equals keep the order.
    alike = colours([checked[place] for _, place in matches]) if colours and len(matches) > 1 else None
    weights = [1.0] * len(matches) if alike is None else alike.tolist()
    weighed = sorted(zip(matches, weights, strict=True), key=lambda mw: -mw[0][0].inliers * mw[1])
    matches = [match for match, _ in weighed]
    first = [checked[place] for _, place in matches]
    moved = {same(found.hit) for found in first}
    rest = [found for found in ranking if same(found.hit) not in moved]
    return Verified(first + rest, matches[0][0].region, len(first), tuple(match for match, _ in matches))
