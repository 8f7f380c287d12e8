"""The progress bar of `lookalike import` (the command runs end to end in tests/acceptance)."""

from __future__ import annotations

import io

from lookalike.import_command import show_progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_bar_is_redrawn_in_place_on_a_terminal():
    out = Terminal()
    show_progress((3, 12, 2, 0, 1), out, width=12)
    show_progress((12, 12, 10, 1, 1), out, width=12)
    assert out.getvalue() == (
        "\r[###.........] 3/12 lines: 2 added, 0 deleted, 1 failed"
        "\r[############] 12/12 lines: 10 added, 1 deleted, 1 failed"
    )


def test_no_bar_goes_to_a_log_file():
    out = io.StringIO()
    show_progress((3, 12, 2, 0, 1), out)
    assert out.getvalue() == ""
