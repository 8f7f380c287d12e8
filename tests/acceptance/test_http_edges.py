"""Requests that never reach an action: paths and methods the API does not have, job links with junk in them,
clients that go away mid-request. Each gets the API's JSON error with the right status, or costs one short
line of log; none a bare 500 or a traceback."""

from __future__ import annotations

import http.client
import json
import socket
import time

import pytest

from tests.acceptance.raw import send


def json_error(server, method: str, target: str) -> tuple[int, dict, dict]:
    """Status, JSON body and headers (lower-case names) of the answer to a bare request."""
    host, port = server.endpoint.split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        connection.request(method, target, body=b"" if method in ("POST", "PUT") else None)
        response = connection.getresponse()
        status, body, headers = response.status, response.read(), dict(response.getheaders())
    finally:
        connection.close()
    answer = json.loads(body)
    assert set(answer) >= {"Code", "Message", "RequestId"}, answer
    assert len(answer["Message"]) > 20
    return status, answer, {name.lower(): value for name, value in headers.items()}


@pytest.mark.parametrize(
    "method_target",
    ["POST /nope", "GET /nope", "POST /v2/image/nope", "POST /item/nope", "GET /v2", "POST /jobs/1"],
)
def test_an_unknown_path_is_404_invalid_action(server, method_target):
    method, target = method_target.split()
    status, answer, headers = json_error(server, method, target)
    assert (status, answer["Code"]) == (404, "InvalidAction.NotFound")
    assert headers["content-type"] == "application/json"


@pytest.mark.parametrize(
    ("method_target", "allowed"),
    [
        ("GET /v2/image/add", "POST"),
        ("PUT /", "GET, HEAD, POST"),
        ("DELETE /", "GET, HEAD, POST"),
        ("POST /healthz", "GET, HEAD"),
        ("GET /uploads.oss/", "POST"),
        ("PUT /item/add", "POST"),
        ("POST /jobs/1/meta.jsonl", "GET, HEAD"),
    ],
)
def test_a_method_the_path_does_not_take_is_405_with_what_it_takes(server, method_target, allowed):
    method, target = method_target.split()
    status, answer, headers = json_error(server, method, target)
    assert (status, answer["Code"]) == (405, "UnsupportedHTTPMethod")
    assert set(headers["allow"].split(", ")) == set(allowed.split(", "))
    assert headers["allow"] in answer["Message"]


@pytest.mark.parametrize(
    "target",
    [
        "/jobs/1/meta.jsonl?Expires=%C2%B2&Signature=x",  # a superscript two: a digit to str.isdigit
        "/jobs/1/meta.jsonl?Expires=" + "9" * 5000 + "&Signature=x",
        "/jobs/" + "9" * 5000 + "/meta.jsonl?Expires=1&Signature=x",
        "/jobs/x/meta.jsonl?Expires=1&Signature=%E2%82%AC",
        "/jobs/1/errors.jsonl",
    ],
)
def test_a_job_link_with_junk_is_403_like_any_bad_link(server, target):
    status, answer, _ = json_error(server, "GET", target)
    assert (status, answer["Code"]) == (403, "SignatureDoesNotMatch")


REQUESTS_CUT_SHORT = {  # and the words of the line each is logged with
    "action": (
        b"POST / HTTP/1.1\r\nHost: h\r\nx-acs-action: AddImage\r\n"
        b"content-type: application/x-www-form-urlencoded\r\nContent-Length: 100000\r\n\r\nInstanceName=x",
        "ClientDisconnected",  # the action's request line
    ),
    "upload": (
        b"POST /uploads.oss/ HTTP/1.1\r\nHost: h\r\ncontent-type: multipart/form-data; boundary=b\r\n"
        b"Content-Length: 100000\r\n\r\n"
        b'--b\r\nContent-Disposition: form-data; name="key"\r\n\r\nk\r\n--b\r\n',
        "went away",
    ),
}


@pytest.mark.parametrize("kind", REQUESTS_CUT_SHORT)
def test_a_client_that_goes_away_mid_body_costs_one_short_line_of_log(server, kind):
    host, port = server.endpoint.split(":")
    sent, logged = REQUESTS_CUT_SHORT[kind]
    before = len(server.log())
    cut_short = 10
    for _ in range(cut_short):
        with socket.create_connection((host, int(port)), timeout=30) as sock:
            sock.sendall(sent)
    # Wait for the server to have noticed each of them (a condition, not a time: the bound only ends a hang).
    deadline = time.monotonic() + 120
    while server.log()[before:].count(logged) < cut_short and time.monotonic() < deadline:
        time.sleep(0.05)
    lines = server.log()[before:].splitlines()
    assert len(lines) == cut_short and all(logged in line and len(line) < 200 for line in lines), lines
    assert send(server.endpoint, "GET", "/healthz", {}, b"")[0] == 200
