"""Uploads for the *_advance methods: kept by key for a while, within a total size, then gone; one upload per
key, read only by the access key that made it."""

from __future__ import annotations

from pathlib import Path

import pytest

from lookalike.service.uploads import KEY_PATTERN, FileUploadStore
from tests.processes import in_processes
from tests.service.test_limits import Clock

OWNER = "LTAIowner"


@pytest.fixture
def clock() -> Clock:
    return Clock()


def test_an_upload_is_found_by_its_key_until_it_expires(tmp_path, clock):
    store = FileUploadStore(tmp_path, ttl_seconds=60, clock=clock)
    key = store.new_key()
    assert KEY_PATTERN.fullmatch(key)
    assert store.put(key, OWNER, b"picture")
    clock.now += 59
    assert store.get(key, OWNER) == b"picture"
    clock.now += 1
    assert store.get(key, OWNER) is None
    assert store.get(store.new_key(), OWNER) is None


def test_an_upload_is_read_only_by_the_key_that_made_it(tmp_path, clock):
    store = FileUploadStore(tmp_path, clock=clock)
    key = store.new_key()
    store.put(key, OWNER, b"picture")
    for other in ("LTAIother", "", OWNER + "x", OWNER[:-1], "LTAIowner\n"):
        assert store.get(key, other) is None
    assert store.get(key, OWNER) == b"picture"


def test_a_key_takes_one_upload_and_the_first_stays(tmp_path, clock):
    store = FileUploadStore(tmp_path, clock=clock)
    key = store.new_key()
    assert store.put(key, OWNER, b"first")
    assert not store.put(key, OWNER, b"second")
    assert not store.put(key, "LTAIother", b"third")
    assert store.get(key, OWNER) == b"first"
    assert store.get(key, "LTAIother") is None
    assert sorted(path.name for path in tmp_path.iterdir()) == [key.removeprefix("lookalike-upload/")]


def put_once(root: str, key: str, owner: str) -> bool:
    """One process's upload (in_processes runs a function of a module's top level)."""
    return FileUploadStore(Path(root)).put(key, owner, owner.encode())


def test_of_processes_uploading_to_one_key_at_once_one_wins(tmp_path):
    key = FileUploadStore(tmp_path).new_key()
    owners = [f"LTAI{n}" for n in range(4)]
    won = in_processes(put_once, [(str(tmp_path), key, owner) for owner in owners])
    assert sum(won) == 1
    winner = owners[won.index(True)]
    assert FileUploadStore(tmp_path).get(key, winner) == winner.encode()


def test_the_oldest_uploads_go_first_when_the_total_is_too_large(tmp_path, clock):
    store = FileUploadStore(tmp_path, max_total_bytes=60, clock=clock)
    keys = [store.new_key() for _ in range(4)]
    for key in keys:
        clock.now += 1
        store.put(key, OWNER, b"x" * 10)  # 29 bytes on disk with the owner's line
    assert [store.get(key, OWNER) is not None for key in keys] == [False, False, True, True]


def test_a_key_pushed_out_by_the_size_limit_stays_used_until_it_expires(tmp_path, clock):
    store = FileUploadStore(tmp_path, ttl_seconds=60, max_total_bytes=30, clock=clock)
    old, new = store.new_key(), store.new_key()
    store.put(old, OWNER, b"x" * 10)
    clock.now += 1
    store.put(new, OWNER, b"x" * 10)
    assert store.get(old, OWNER) is None
    assert not store.put(old, OWNER, b"again")
    clock.now += 60
    store.put(store.new_key(), OWNER, b"x")  # cleans up what expired
    assert store.put(old, OWNER, b"again")  # long after any policy for it expired


def test_expired_uploads_are_removed_from_disk(tmp_path, clock):
    store = FileUploadStore(tmp_path, ttl_seconds=10, clock=clock)
    old = store.new_key()
    store.put(old, OWNER, b"old")
    clock.now += 11
    store.put(store.new_key(), OWNER, b"new")
    assert len(list(tmp_path.iterdir())) == 1


@pytest.mark.parametrize("key", ["../etc/passwd", "lookalike-upload/../../x", "lookalike-upload/ABC"])
def test_only_upload_keys_name_files(tmp_path, key):
    with pytest.raises(ValueError):
        FileUploadStore(tmp_path).get(key, OWNER)
