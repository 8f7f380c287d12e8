"""The progress bars of the long commands (the commands run end to end in tests/acceptance)."""

from __future__ import annotations

import io

from lookalike.import_command import show_progress
from lookalike.progress import Progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_bar_is_drawn_on_a_terminal_with_the_counts():
    out = Terminal()
    progress = Progress("import", "line", out)
    show_progress(progress, (3, 12, 2, 0, 1))
    show_progress(progress, (12, 12, 10, 1, 1))
    progress.close()
    drawn = out.getvalue()
    assert "3/12" in drawn and "2 added, 0 deleted, 1 failed" in drawn
    assert "12/12" in drawn and "10 added, 1 deleted, 1 failed" in drawn and "\r" in drawn


def test_no_bar_goes_to_a_log_file():
    out = io.StringIO()
    progress = Progress("export", "image", out)
    progress.show(3, 12)
    progress.close()
    assert out.getvalue() == ""
