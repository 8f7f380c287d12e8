"""Progress bars of the long commands (`import`, `instance export`, `instance import`), drawn by tqdm on
standard error when it is a terminal, and left out of logs and pipes."""

from __future__ import annotations

import sys
from typing import TextIO

from tqdm import tqdm


class Progress:
    def __init__(self, what: str, unit: str, out: TextIO = sys.stderr):
        self._bar = tqdm(desc=what, unit=unit, file=out, disable=not out.isatty(), dynamic_ncols=True)

    def show(self, done: int, total: int | None = None, note: str = "") -> None:
        """`done` of `total` (None: not known), with a note after the bar."""
        if total is not None and total != self._bar.total:
            self._bar.total = total
        self._bar.n = done
        if note:
            self._bar.set_postfix_str(note, refresh=False)
        self._bar.refresh()

    def close(self) -> None:
        self._bar.close()
