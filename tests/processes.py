"""Run a function in several real processes at once, for the tests of what the processes on one data
directory share."""

from __future__ import annotations

import multiprocessing
import traceback
from collections.abc import Callable, Sequence
from typing import Any

TIMEOUT_SECONDS = 120


def in_processes(function: Callable[..., Any], arguments: Sequence[tuple]) -> list[Any]:
    """`function(*args)` for each tuple of `arguments`, each in a process of its own, all let go at once;
    their results in the same order. `function` must be importable (a module's top level)."""
    context = multiprocessing.get_context("spawn")  # a fresh interpreter: nothing inherited by fork
    start, results = context.Event(), context.Queue()
    processes = [
        context.Process(target=_run, args=(function, args, start, results, index))
        for index, args in enumerate(arguments)
    ]
    for process in processes:
        process.start()
    start.set()
    try:
        answers = dict(results.get(timeout=TIMEOUT_SECONDS) for _ in processes)
    finally:
        for process in processes:
            process.join(TIMEOUT_SECONDS)
            if process.is_alive():
                process.kill()
    failed = [answer.text for answer in answers.values() if isinstance(answer, _Failure)]
    assert not failed, "\n".join(failed)
    return [answers[index] for index in range(len(processes))]


class _Failure:
    def __init__(self, text: str):
        self.text = text


def _run(function: Callable[..., Any], args: tuple, start: Any, results: Any, index: int) -> None:
    start.wait()
    try:
        results.put((index, function(*args)))
    except BaseException:
        results.put((index, _Failure(traceback.format_exc())))
