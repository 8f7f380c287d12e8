"""What decoding the biggest accepted pictures costs in memory, measured on a real process's resident set.

Each picture is decoded in a fresh interpreter, which reports the growth of its peak resident memory
(VmHWM, reset just before) and of its resident memory once the picture is decoded. Before the decode was
made to reduce and convert a strip at a time, a 16-bit grey PNG of 40 KB took 416 MB and a transparent one
255 MB; and the memory stayed taken afterwards.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from lookalike.memory import return_big_blocks
from lookalike.vision.budget import DecodeBudget
from lookalike.vision.decode import decode_reduced
from tests.big_pictures import KINDS, picture
from tests.processes import in_processes
from tests.vision.conftest import photo_bytes

MB = 2**20
# The pixels at full size are unavoidable with Pillow (64 MB as RGB; its WebP decoder holds four copies);
# everything beyond them must be small.
MOST_MB = {"WebP lossless, one colour": 272, "JPEG progressive": 120}
OTHERS_MOST_MB = 96
RESULT_MB = 4  # 1024 x 1024 RGB
KEPT_MOST_MB = 12


def _status_kb(name: str) -> int:
    fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines())
    return int(fields[name].split()[0])


def decode_and_measure(kind: str) -> dict[str, float]:
    """In a fresh process, as the server does it: peak growth, growth kept, the estimate, the result size."""
    return_big_blocks()
    data = picture(kind)
    decode_reduced(photo_bytes("chelsea.png"))  # the decoders' libraries loaded and set up
    Path("/proc/self/clear_refs").write_text("5")  # VmHWM := VmRSS
    before = _status_kb("VmRSS")
    budget = RecordingBudget()
    reduced = decode_reduced(data, budget=budget)
    return {
        "peak_mb": (_status_kb("VmHWM") - before) / 1024,
        "kept_mb": (_status_kb("VmRSS") - before) / 1024 - RESULT_MB,
        "estimate_mb": budget.costs[0] / MB,
        "size": reduced.image.size,
    }


class RecordingBudget(DecodeBudget):
    """The real budget, remembering what each decode asked it for."""

    def __init__(self) -> None:
        super().__init__()
        self.costs: list[int] = []

    def hold(self, cost: int):
        self.costs.append(cost)
        return super().hold(cost)


@pytest.fixture(scope="module")
def measured() -> dict[str, dict[str, float]]:
    return dict(zip(KINDS, in_processes(decode_and_measure, [(kind,) for kind in KINDS]), strict=True))


@pytest.mark.parametrize("kind", KINDS)
def test_a_4096_picture_costs_little_beyond_its_pixels(measured, kind):
    got = measured[kind]
    assert got["size"] == (1024, 1024)
    assert got["peak_mb"] <= MOST_MB.get(kind, OTHERS_MOST_MB), got


@pytest.mark.parametrize("kind", KINDS)
def test_the_estimate_the_budget_holds_is_not_exceeded(measured, kind):
    got = measured[kind]
    assert got["peak_mb"] <= got["estimate_mb"], got


@pytest.mark.parametrize("kind", KINDS)
def test_the_memory_goes_back_once_decoded(measured, kind):
    assert measured[kind]["kept_mb"] <= KEPT_MOST_MB, measured[kind]
