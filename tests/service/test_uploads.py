"""Uploads for the *_advance methods: kept by key for a while, within a total size, then gone."""

from __future__ import annotations

import pytest

from lookalike.service.uploads import KEY_PATTERN, FileUploadStore
from tests.service.test_limits import Clock


@pytest.fixture
def clock() -> Clock:
    return Clock()


def test_an_upload_is_found_by_its_key_until_it_expires(tmp_path, clock):
    store = FileUploadStore(tmp_path, ttl_seconds=60, clock=clock)
    key = store.new_key()
    assert KEY_PATTERN.fullmatch(key)
    store.put(key, b"picture")
    clock.now += 59
    assert store.get(key) == b"picture"
    clock.now += 1
    assert store.get(key) is None
    assert store.get(store.new_key()) is None


def test_the_oldest_uploads_go_first_when_the_total_is_too_large(tmp_path, clock):
    store = FileUploadStore(tmp_path, max_total_bytes=25, clock=clock)
    keys = [store.new_key() for _ in range(4)]
    for key in keys:
        clock.now += 1
        store.put(key, b"x" * 10)
    assert [store.get(key) is not None for key in keys] == [False, False, True, True]


def test_expired_uploads_are_removed_from_disk(tmp_path, clock):
    store = FileUploadStore(tmp_path, ttl_seconds=10, clock=clock)
    old = store.new_key()
    store.put(old, b"old")
    clock.now += 11
    store.put(store.new_key(), b"new")
    assert len(list(tmp_path.iterdir())) == 1


@pytest.mark.parametrize("key", ["../etc/passwd", "lookalike-upload/../../x", "lookalike-upload/ABC"])
def test_only_upload_keys_name_files(tmp_path, key):
    with pytest.raises(ValueError):
        FileUploadStore(tmp_path).get(key)
