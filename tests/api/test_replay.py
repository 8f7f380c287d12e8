"""A signature nonce is accepted once, for as long as its request's timestamp would be, by every process on
the data directory."""

from __future__ import annotations

import pytest

from lookalike.api.replay import PRUNE_SECONDS, SharedNonceCache
from tests.processes import in_processes
from tests.service.test_limits import Clock


def test_a_nonce_is_good_once_per_access_key(tmp_path):
    cache = SharedNonceCache(tmp_path / "nonces.sqlite3", clock=Clock())
    assert cache.first_use("key", "n1", expires_at=200)
    assert not cache.first_use("key", "n1", expires_at=200)
    assert cache.first_use("other-key", "n1", expires_at=200)


def test_a_nonce_is_forgotten_once_its_request_could_no_longer_pass_the_clock(tmp_path):
    clock = Clock()
    cache = SharedNonceCache(tmp_path / "nonces.sqlite3", clock=clock)
    cache.first_use("key", "old", expires_at=clock.now + 10)
    cache.first_use("key", "young", expires_at=clock.now + 1000)
    clock.now += 11
    assert cache.first_use("key", "old", expires_at=clock.now + 10)  # its first use has expired
    assert not cache.first_use("key", "young", expires_at=clock.now + 1000)
    clock.now += PRUNE_SECONDS
    cache.first_use("key", "new", expires_at=clock.now + 10)
    assert len(cache) == 2  # "old" is gone, so memory follows the request rate, not the uptime


def first_uses_in_a_process(path, wal: bool, nonces: list[str]) -> list[str]:
    cache = SharedNonceCache(path, wal=wal, clock=Clock(1_700_000_000.0))
    return [nonce for nonce in nonces if cache.first_use("key", nonce, expires_at=1_700_000_900.0)]


@pytest.mark.parametrize("wal", [False, True], ids=["rollback-journal", "wal"])
def test_processes_accept_each_nonce_once_between_them(tmp_path, wal):
    nonces = [f"n{i}" for i in range(200)]
    accepted = in_processes(first_uses_in_a_process, [(tmp_path / "nonces.sqlite3", wal, nonces)] * 4)
    assert sorted(nonce for each in accepted for nonce in each) == sorted(nonces)
