"""The quality harness's own promises: the held-out split stays apart, a query's true box is where its
object is, and the figures count what they say. Synthetic pictures: the registry packages are the
benchmark's to install, not the tests'."""

from __future__ import annotations

import io
import math

import numpy as np
from bench.quality.compare import changed, compare
from bench.quality.objects import (
    SHOT_SIDES,
    STYLES,
    StockObject,
    catalog_picture,
    of_split,
    render_category,
    side_of,
    style_of,
)
from bench.quality.queries import MAX_SHARE, MIN_SHARE, duplicate_query, scene_query, size_bin
from bench.quality.report import (
    figures,
    region_place,
    summary,
    what_came_first,
    where_misses_are,
    where_regions_lie,
)
from bench.quality.scenes import upright
from PIL import Image

from lookalike.domain.image import Box
from lookalike.vision.categories import OTHER
from lookalike.vision.decode import MIN_SIDE


def red_square() -> StockObject:
    pixels = np.zeros((120, 160, 4), np.uint8)
    pixels[..., 0], pixels[..., 3] = 220, 255  # opaque red, every pixel of it part of the object
    return StockObject("tools/red", Image.fromarray(pixels, "RGBA"), OTHER, Image.fromarray(pixels, "RGBA"))


def grey_scene() -> Image.Image:
    return Image.new("RGB", (800, 533), (90, 90, 90))


def test_a_third_of_the_names_is_held_out_and_the_split_does_not_depend_on_the_order():
    names = [f"scene{i}" for i in range(30)]
    dev, held = of_split(names, "dev"), of_split(names, "heldout")
    assert len(held) == 10
    assert not set(dev) & set(held) and set(dev) | set(held) == set(names)
    assert set(of_split(names[::-1], "heldout")) == set(held)


def test_the_true_box_of_a_scene_query_is_where_the_object_was_laid():
    for seed in range(12):
        query = scene_query(red_square(), grey_scene(), "grey", seed=seed, side=seed % 2 == 1)
        assert query.kind == ("viewpoint" if seed % 2 else "scene")
        pixels = np.asarray(Image.open(io.BytesIO(query.data)).convert("RGB"), np.int32)
        # Red is well above the grey, even blurred, noisy, shadowed and recompressed.
        ys, xs = np.nonzero(pixels[..., 0] - pixels[..., 2] > 60)
        found = (xs.min(), xs.max() + 1, ys.min(), ys.max() + 1)
        assert all(abs(a - b) <= 4 for a, b in zip(found, query.box, strict=True)), (found, query.box)
        area = (query.box.x2 - query.box.x1) * (query.box.y2 - query.box.y1) / (800 * 533)
        assert math.isclose(query.share, area) and MIN_SHARE * 0.8 <= area <= MAX_SHARE * 1.2


def test_the_sizes_of_scene_queries_cover_every_bin():
    sizes = {size_bin(scene_query(red_square(), grey_scene(), "grey", seed=seed).share) for seed in range(40)}
    assert sizes == {"<5 %", "5-15 %", "15-40 %"}


def test_bigger_objects_are_laid_as_the_framing_asks_and_binned_apart():
    big = (0.5, 0.7)
    shares = [scene_query(red_square(), grey_scene(), "grey", seed=i, shares=big).share for i in range(8)]
    # Never more than drawn; less where the frame is too short for the tilted object at that size.
    assert all(0.4 <= share <= 0.7 * 1.05 for share in shares)
    assert {size_bin(share) for share in shares} == {"over 40 %"}


def test_an_upright_scene_is_the_middle_of_a_wide_photo_3_wide_to_4_high():
    wide = Image.new("RGB", (1200, 800))
    wide.paste((255, 0, 0), (500, 0, 700, 800))  # a red stripe down the middle
    photo = upright(wide)
    assert photo.size == (600, 800)
    assert photo.getpixel((300, 400)) == (255, 0, 0) and photo.getpixel((10, 400)) == (0, 0, 0)
    assert upright(Image.new("RGB", (300, 800))).size == (300, 400)  # a narrow one: all of it across


def test_a_near_duplicate_keeps_the_object_inside_its_box():
    data, box = catalog_picture(red_square())
    query = duplicate_query("tools/red", data, box, seed=3)
    image = Image.open(io.BytesIO(query.data))
    assert query.box.x1 >= 0 and query.box.y1 >= 0
    assert query.box.x2 <= image.width and query.box.y2 <= image.height


def test_catalog_styles_share_the_products_and_each_draws_its_shot_so():
    names = [f"tools/thing{i}" for i in range(800)]
    counts = {style: sum(style_of(name) == style for name in names) for style in STYLES}
    assert len(STYLES) == 8 and all(70 <= count <= 130 for count in counts.values()), counts  # an eighth each
    room = Image.new("RGB", (800, 600), (30, 90, 30))
    for style in STYLES:
        data, box = catalog_picture(red_square(), style, [room])
        image = Image.open(io.BytesIO(data)).convert("RGB")
        corner = np.asarray(image, np.int32)[2, 2]
        backdrop = {"light grey": (222, 222, 222), "beige": (234, 224, 204), "in a room": (30, 90, 30)}.get(
            style, (255, 255, 255)
        )
        if style == "in a room":  # laid over 10-60 % of the room's photo, fitted to a catalog shot's size
            share = box.width * box.height / (image.width * image.height)
            assert max(image.size) == 480 and 0.1 <= share <= 0.6, (image.size, share)
        if style == "cropped tight":  # the object touches both long edges
            assert (box.x1, box.x2) == (0, image.width) or (box.y1, box.y2) == (0, image.height)
        else:
            assert all(abs(int(c) - b) <= 12 for c, b in zip(corner, backdrop, strict=True)), (style, corner)
        red = np.asarray(image, np.int32)[(box.y1 + box.y2) // 2, (box.x1 + box.x2) // 2]
        assert red[0] > 180 and red[1] < 60, style  # the object where its box says


def test_catalog_shots_come_in_three_sizes_the_box_scaled_with_the_shot():
    names = [f"tools/thing{i}" for i in range(600)]
    counts = {side: sum(side_of(name) == side for name in names) for side in SHOT_SIDES}
    assert SHOT_SIDES == (480, 800, 1200) and all(160 <= n <= 240 for n in counts.values()), counts
    room = Image.new("RGB", (800, 600), (30, 90, 30))
    for style in ("white", "in a room"):
        small, big = (catalog_picture(red_square(), style, [room], side) for side in (480, 1200))
        image = Image.open(io.BytesIO(big[0]))
        assert max(image.size) == 1200 and max(Image.open(io.BytesIO(small[0])).size) == 480
        assert all(abs(a * 2.5 - b) <= 3 for a, b in zip(small[1], big[1], strict=True)), (small[1], big[1])


def test_a_near_duplicate_of_a_shot_cropped_tight_keeps_a_box_in_the_frame():
    data, box = catalog_picture(red_square(), "cropped tight")
    for seed in range(10):
        query = duplicate_query("tools/red", data, box, seed=seed)
        assert query.share <= 1.0 and size_bin(query.share) == "over 40 %"


def test_a_near_duplicate_of_a_wide_shot_is_a_picture_the_service_takes():
    wide = Image.new("RGB", (260, 128), (200, 40, 40))
    out = io.BytesIO()
    wide.save(out, "JPEG")
    for seed in range(40):  # some draw half size: 130 x 64 before the floor
        query = duplicate_query("tools/wide", out.getvalue(), Box(10, 250, 10, 118), seed=seed)
        assert min(Image.open(io.BytesIO(query.data)).size) >= MIN_SIDE, seed


def row(seed: int, mode: str, rank: int | None, iou: float = 0.5, index: int = 0) -> dict:
    return {"seed": seed, "index": index, "kind": "scene", "source": "grey", "size": "<5 %",
            "target": "tools/red", "mode": mode, "rank": rank, "iou": iou}  # fmt: skip


def test_figures_count_first_places_and_the_first_five():
    rows = [row(1, "default", 0), row(1, "default", 3), row(1, "default", None), row(1, "true box", 0)]
    got = figures(rows)
    assert got["n"] == 3 and got["R@1"] == 1 / 3 and got["R@5"] == 2 / 3 and got["R@1 box"] == 1.0
    assert math.isnan(got["R@1 whole"])


def test_the_summary_gives_the_mean_and_the_worst_seed():
    rows = [row(1, "default", 0), row(1, "default", 0), row(2, "default", 0), row(2, "default", None)]
    grey = summary(rows)["grey"]
    assert grey["mean"]["R@1"] == 0.75 and grey["worst"]["R@1"] == 0.5
    assert set(grey["seeds"]) == {1, 2}


def test_rendered_models_are_labelled_by_their_names():
    assert render_category("Wine bottle") == 8
    assert render_category("Sneakers") == 4
    assert render_category("Dresser with drawers") == 9  # not a dress
    assert render_category("Hammer") == OTHER


def test_a_miss_is_told_apart_by_what_the_true_box_would_have_found():
    rows = [
        row(1, "default", 2, iou=0.1, index=0), row(1, "true box", 0, index=0),  # where to look
        row(1, "default", None, iou=0.8, index=1), row(1, "true box", 4, index=1),  # how it looks
        row(1, "default", 0, index=2), row(1, "true box", 0, index=2),  # no miss
    ]  # fmt: skip
    assert where_misses_are(rows)[-1] == "| scene | 2 | 1 | 1 | 1 |"


def placed(region: list[int], iou: float, rank: int | None = None, index: int = 0) -> dict:
    """A default search of a product boxed at x 100-200, y 100-200, its Region where given."""
    return {**row(1, "default", rank, iou=iou, index=index), "box": [100, 200, 100, 200], "region": region}


def test_a_region_is_placed_on_around_on_a_part_of_across_or_away_from_its_product():
    assert region_place(placed([90, 210, 95, 205], iou=0.76)) == "on it"
    assert region_place(placed([0, 400, 0, 400], iou=0.06)) == "around it, too wide"
    assert region_place(placed([120, 160, 120, 160], iou=0.16)) == "on a part of it"
    assert region_place(placed([150, 300, 150, 300], iou=0.08)) == "across it"
    assert region_place(placed([300, 400, 300, 400], iou=0.0)) == "elsewhere"


def test_the_misses_are_counted_by_where_their_region_lay_and_what_the_true_box_found():
    rows = [
        placed([0, 400, 0, 400], iou=0.06, index=0), row(1, "true box", 0, index=0),
        placed([0, 400, 0, 400], iou=0.06, rank=2, index=1), row(1, "true box", None, index=1),
        placed([300, 400, 300, 400], iou=0.0, index=2), row(1, "true box", 0, index=2),
        placed([300, 400, 300, 400], iou=0.0, rank=0, index=3), row(1, "true box", 0, index=3),  # found
    ]  # fmt: skip
    table = where_regions_lie(rows)
    assert "| around it, too wide | 2 | 1 | 1 |" in table
    assert "| elsewhere | 1 | 1 | 0 |" in table
    assert "| on it | 0 | 0 | 0 |" in table


def test_what_came_first_instead_is_told_by_the_way_its_shot_was_taken_beside_that_ways_share():
    shots = {"tools/red": "white", "tools/blue": "in a room", "tools/green": "white", "tools/grey": "white"}
    stolen = [
        {**row(1, "default", None, index=0), "found": ["tools/blue"]},
        {**row(1, "default", 1, index=1), "found": ["tools/blue", "tools/red"]},
        {**row(1, "default", None, index=2), "found": ["tools/green"]},
        {**row(1, "true box", None, index=0), "found": ["tools/green"]},
        {**row(1, "default", 0, index=3), "found": ["tools/red"]},  # found: no thief
        {**row(1, "crop=false", None, index=0), "found": ["tools/blue"]},  # not a mode counted
    ]
    table = what_came_first(stolen, shots)
    assert table[2:] == [
        "| white | 75 % | 1 (33 %) | 1 (100 %) |",
        "| in a room | 25 % | 2 (67 %) | 0 (0 %) |",
    ]


def test_two_runs_are_compared_group_by_group_on_the_mean_and_the_worst_seed():
    before = summary([row(1, "default", 0), row(2, "default", None)])
    after = summary([row(1, "default", 0), row(2, "default", 0)])
    lines = compare(before, after)
    grey = next(line for line in lines if line.startswith("| grey |"))
    assert "0.500 (0.000) → 1.000 (1.000)" in grey


def test_two_runs_rows_tell_which_answers_changed_and_which_first_places_moved():
    before = [row(1, "default", 0, index=0), row(1, "default", 2, index=1), row(1, "true box", 0, index=0)]
    after = [row(1, "default", 1, index=0), row(1, "default", 0, index=1), row(1, "true box", 0, index=0)]
    after[2] = {**after[2], "region": [0, 10, 0, 10]}  # the same rank, another Region
    lines = changed(before, after)
    assert lines[0] == "3 of 3 searches answered otherwise (rank, Region, results or category)."
    assert "| scene | grey | default | 1 | 1 |" in lines and lines[-1] == "| all | | | 1 | 1 |"
    assert changed(before, before) == [
        "0 of 3 searches answered otherwise (rank, Region, results or category)."
    ]
    other_set = [{**r, "target": "tools/blue"} for r in before]  # the same keys, other queries
    assert "3 searches looked for another product: the runs are not of the same set." in changed(
        before, other_set
    )
