"""The bounded fuzz suite: hostile requests of every family (parameters, pictures and base64, filters, caret
bodies, signatures, upload forms), drawn by hypothesis from fixed seeds, sent over HTTP to a real server.
Every answer is a success or a documented error; afterwards the server still answers, its log holds no
traceback, and the images it held are there, unchanged. `bench/bench_fuzz.py` runs the same for longer."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings

from tests.acceptance.conftest import create_instance
from tests.acceptance.hostile import (
    FAMILIES,
    Hostile,
    Target,
    fill_victim,
    hostile_requests,
    send,
    verdict,
    victim_changes,
)
from tests.acceptance.server import ServerProcess

# Requests per family: enough to reach each kind of input, few enough for `make test` on a busy machine.
EXAMPLES = {
    "parameters": 80,
    "pictures": 50,
    "filters": 60,
    "caret bodies": 50,
    "signatures": 80,
    "uploads": 40,
}


@dataclass(frozen=True)
class Fuzzed:
    server: ServerProcess
    target: Target
    stored: dict[str, dict]  # ProductId -> the attributes stored with it in the victim instance


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory) -> Iterator[Fuzzed]:
    server = ServerProcess(tmp_path_factory.mktemp("fuzz") / "data").start()
    victim, stored = fill_victim(server)
    yield Fuzzed(server, Target(server.endpoint, victim, create_instance(server.data_dir)), stored)
    server.stop()


@pytest.mark.parametrize("family", FAMILIES)
def test_every_answer_to_a_hostile_request_is_a_success_or_a_documented_error(fuzzed, family):
    @settings(
        max_examples=EXAMPLES[family],
        derandomize=True,  # the same requests on every run
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(hostile_requests(fuzzed.target, [family]))
    def answered_as_documented(request: Hostile) -> None:
        status, content_type, body = send(fuzzed.target.endpoint, request)
        wrong = verdict(request, status, content_type, body)
        assert wrong is None, f"{wrong}\nfor {request.method} {request.target[:300]} {request.body[:300]!r}"

    answered_as_documented()


def test_after_the_fuzz_the_server_answers_and_holds_every_image_unchanged(fuzzed):
    assert victim_changes(fuzzed.server, fuzzed.target.victim, fuzzed.stored) == []
    log = fuzzed.server.log()
    assert "Traceback" not in log and "InternalError" not in log, log[-5000:]
