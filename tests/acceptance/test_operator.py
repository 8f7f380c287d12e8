"""What an operator reads of a running server: /metrics moves as requests are made, /readyz, /healthz, and one
log line per request."""

from __future__ import annotations

import re
import urllib.request

import pytest
from alibabacloud_tea_openapi.exceptions import ClientException

from lookalike.api.errors import ApiError
from lookalike.client import Client
from tests.acceptance.conftest import create_instance
from tests.acceptance.sdk import add, search_pic
from tests.acceptance.server import ACCESS_KEY_ID, ACCESS_KEY_SECRET, ServerProcess


def get(server: ServerProcess, path: str) -> tuple[int, str]:
    with urllib.request.urlopen(f"http://{server.endpoint}{path}", timeout=30) as response:
        return response.status, response.read().decode()


def samples(server: ServerProcess) -> dict[str, float]:
    """Every sample of /metrics, by its name and labels as written."""
    status, text = get(server, "/metrics")
    assert status == 200
    lines = (line.rsplit(" ", 1) for line in text.splitlines() if line and not line.startswith("#"))
    return {name: float(value) for name, value in lines}


def test_metrics_move_when_requests_are_made(server, client, photos):
    instance = create_instance(server.data_dir)
    before = samples(server)
    add(client, instance, "p", "coffee", photos["coffee"])
    search_pic(client, instance, photos["coffee"])
    with pytest.raises(ClientException):
        search_pic(client, "nosuch", photos["coffee"])
    after = samples(server)

    def moved(name: str) -> float:
        return after.get(name, 0.0) - before.get(name, 0.0)

    assert moved('lookalike_requests_total{action="AddImage",code="0"}') == 1
    assert moved('lookalike_requests_total{action="SearchImageByPic",code="0"}') == 1
    assert moved('lookalike_requests_total{action="SearchImageByPic",code="InvalidInstance"}') == 1
    assert after[f'lookalike_images{{instance="{instance}"}}'] == 1
    for stage in ("decode", "locate", "describe", "total"):
        assert moved(f'lookalike_stage_seconds_count{{stage="{stage}"}}') >= 2, stage
    assert moved('lookalike_stage_seconds_count{stage="store"}') >= 3  # at least a write, a search, a count
    assert "lookalike_index_builds_running" in after


def test_an_action_name_no_one_knows_is_counted_as_unknown(server):
    client = Client(f"http://{server.endpoint}", ACCESS_KEY_ID, ACCESS_KEY_SECRET)
    with pytest.raises(ApiError):
        client.call("NoSuchAction" + "x" * 40)
    after = samples(server)
    assert after['lookalike_requests_total{action="unknown",code="InvalidAction.NotFound"}'] >= 1
    assert not any("NoSuchAction" in name for name in after)


def test_ready_and_healthy(server):
    assert get(server, "/readyz") == (200, '{"status":"ready"}')
    assert get(server, "/healthz")[0] == 200


def test_one_log_line_per_request(server, client, photos):
    instance = create_instance(server.data_dir)
    answer = add(client, instance, "p", "coffee", photos["coffee"])
    line = next(line for line in server.log().splitlines() if answer.request_id in line)
    assert re.search(rf"{answer.request_id} AddImage {instance} {ACCESS_KEY_ID} 0 [0-9.]+$", line), line
