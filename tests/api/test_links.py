"""Download links that expire: a link works for its path until its time is up, and for nothing else."""

from __future__ import annotations

import time

import pytest

from lookalike.api.errors import ApiError
from lookalike.api.links import Links


def test_a_link_works_for_its_path_until_it_expires():
    links = Links(b"key", ttl_seconds=60)
    before = int(time.time())
    url = links.url("http://h:1", "/jobs/3/meta.jsonl")
    after = int(time.time())
    path, query = url.removeprefix("http://h:1").split("?")
    expires, signature = (part.split("=")[1] for part in query.split("&"))
    assert before + 60 <= int(expires) <= after + 60
    links.check("/jobs/3/meta.jsonl", expires, signature)
    for bad in [
        ("/jobs/4/meta.jsonl", expires, signature),  # another file
        (path, str(int(expires) + 3600), signature),  # stretched
        (path, expires, "0" * 64),
        (path, "", ""),
        (path, "²", signature),  # a digit to str.isdigit, not to int
        (path, "9" * 5000, signature),  # past what int() reads
        (path, expires, "€" * 64),  # not ASCII: compare_digest would raise on it as a str
    ]:
        with pytest.raises(ApiError) as error:
            links.check(*bad)
        assert (error.value.code, error.value.status) == ("SignatureDoesNotMatch", 403)
    with pytest.raises(ApiError) as error:
        Links(b"another key", ttl_seconds=60).check(path, expires, signature)
    assert error.value.code == "SignatureDoesNotMatch"


def test_a_link_with_no_time_to_live_is_refused_as_expired():
    links = Links(b"key", ttl_seconds=0)
    query = links.url("", "/jobs/3/meta.jsonl").split("?")[1]
    expires, signature = (part.split("=")[1] for part in query.split("&"))
    with pytest.raises(ApiError) as error:
        links.check("/jobs/3/meta.jsonl", expires, signature)
    assert (error.value.code, error.value.status) == ("AccessDenied", 403)
    assert "expired" in error.value.message
