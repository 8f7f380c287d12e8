"""Pictures of the misses, so a person can see where the search fails: for every query (scene, viewpoint,
near-duplicate) whose product did not come first (Crop and Region absent), the query with the object's true
box (green) and the region the service used (red), and the subjects it probed (orange) where the rows say
(bench/quality/probes.py), beside the catalog shot it wanted and the one it found first."""

from __future__ import annotations

import io
import re
from pathlib import Path

from PIL import Image, ImageDraw

from bench.quality.dataset import Dataset

HEIGHT = 360  # of each panel


def _panel(data: bytes, title: str, boxes: tuple[tuple[list[int], str], ...] = ()) -> Image.Image:
    image = Image.open(io.BytesIO(data)).convert("RGB")
    draw = ImageDraw.Draw(image)
    width = max(2, round(max(image.size) / 250))
    for (x1, x2, y1, y2), colour in boxes:
        draw.rectangle((x1, y1, x2 - 1, y2 - 1), outline=colour, width=width)
    scale = HEIGHT / image.height
    image = image.resize((max(1, round(image.width * scale)), HEIGHT))
    panel = Image.new("RGB", (image.width, HEIGHT + 18), "white")
    panel.paste(image, (0, 18))
    ImageDraw.Draw(panel).text((4, 3), title, fill="black")
    return panel


def write_misses(data: Dataset, rows: list[dict], folder: Path) -> int:
    """Writes a JPEG for each miss below `folder` (one subfolder a seed); returns how many."""
    pictures = {**data.catalog, **data.distractors}
    written = 0
    for row in rows:
        if row["mode"] != "default" or row["rank"] == 0:
            continue
        query = data.queries[row["seed"]][row["index"]]
        where = "not in the first 5" if row["rank"] is None else f"at rank {row['rank'] + 1}"
        if "place" in row:  # bench/quality/probes.py: where the search lost it
            where += f" ({row['place']})"
        probed = tuple((box, "orange") for box in row.get("probed", ()))
        panels = [
            _panel(
                query.data,
                f"{row['kind']} in {row['source']}, box {row['share']:.1%} of the frame, "
                f"IoU {row['iou']:.2f}: {where}",
                (*probed, (row["box"], "lime"), (row["region"], "red")),
            ),
            _panel(pictures[row["target"]], f"wanted: {row['target']}"),
        ]
        if row["found"]:
            panels.append(_panel(pictures[row["found"][0]], f"found first: {row['found'][0]}"))
        sheet = Image.new("RGB", (sum(p.width for p in panels) + 8 * len(panels), HEIGHT + 18), "white")
        x = 0
        for panel in panels:
            sheet.paste(panel, (x, 0))
            x += panel.width + 8
        name = re.sub(r"[^A-Za-z0-9_-]+", "_", row["target"])
        file = f"{row['kind']}-{row['source']}-{row['index']:04d}-{name}.jpg"
        target = folder / f"seed{row['seed']}" / file
        target.parent.mkdir(parents=True, exist_ok=True)
        sheet.save(target, quality=85)
        written += 1
    return written
