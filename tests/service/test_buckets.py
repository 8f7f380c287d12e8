"""Buckets an import reads: a local folder that keys never leave, and an S3-compatible store via boto3."""

from __future__ import annotations

import io

import pytest

from lookalike.domain.errors import BadJob
from lookalike.service.buckets import Buckets, LocalBucket, folder_of, open_bucket
from tests.s3 import CREDENTIALS, fake_s3, s3_client


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "shop" / "shoes").mkdir(parents=True)
    (tmp_path / "shop" / "shoes" / "red.jpg").write_bytes(b"0123456789")
    (tmp_path / "secret.txt").write_text("not in the bucket")
    return tmp_path / "shop"


def test_a_local_bucket_reads_keys_below_its_folder(folder):
    bucket = open_bucket("shop", str(folder))
    assert bucket.read("shoes/red.jpg", 4) == b"0123"
    assert bucket.exists("shoes/red.jpg") and not bucket.exists("shoes/blue.jpg")
    copy = io.BytesIO()
    bucket.download("shoes/red.jpg", copy)
    assert copy.getvalue() == b"0123456789"
    with pytest.raises(FileNotFoundError):
        bucket.read("shoes/blue.jpg", 10)


@pytest.mark.parametrize("key", ["../secret.txt", "shoes/../../secret.txt", "/etc/passwd"])
def test_no_key_reaches_outside_a_local_bucket(folder, key):
    bucket = LocalBucket("shop", folder)
    assert not bucket.exists(key)
    with pytest.raises(FileNotFoundError):
        bucket.read(key, 100)


def test_an_s3_bucket_reads_keys_below_its_prefix(monkeypatch):
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    with fake_s3() as endpoint:
        s3 = s3_client(endpoint)
        s3.create_bucket(Bucket="photos")
        s3.put_object(Bucket="photos", Key="2024/shoes/red.jpg", Body=b"0123456789")
        bucket = open_bucket("remote", f"s3://photos/2024/?endpoint={endpoint}")
        assert bucket.read("shoes/red.jpg", 4) == b"0123"
        assert bucket.exists("shoes/red.jpg") and not bucket.exists("red.jpg")
        copy = io.BytesIO()
        bucket.download("shoes/red.jpg", copy)
        assert copy.getvalue() == b"0123456789"
        with pytest.raises(FileNotFoundError):
            bucket.read("shoes/blue.jpg", 10)


@pytest.mark.parametrize(
    ("location", "complaint"),
    [
        ("/no/such/folder", "is not a directory"),
        ("s3://", "names no S3 bucket"),
        ("s3://photos?endpoint=http://x&colour=red", "unknown option colour"),
    ],
)
def test_a_bucket_that_cannot_be_opened_says_why(location, complaint):
    with pytest.raises(ValueError, match=complaint):
        open_bucket("b", location)


def test_an_unknown_bucket_name_lists_the_known_ones(folder):
    buckets = Buckets.configure({"shop": str(folder)})
    with pytest.raises(BadJob) as error:
        buckets.get("shp")
    assert "known: shop" in error.value.message


@pytest.mark.parametrize(
    ("path", "folder"),
    [("/", ""), ("/p", "p/"), ("/p/", "p/"), ("/p/increment.meta", "p/"), ("/a//b/", "a/b/")],
)
def test_a_path_names_the_folder_of_increment_meta(path, folder):
    assert folder_of(path) == folder


@pytest.mark.parametrize(
    "path", ["p/increment.meta", "", "/p/../../etc", "/" + "a" * 1024, "/a\x00b", "/a\tb", "/é" * 342]
)
def test_a_path_must_start_at_the_root_stay_inside_and_be_an_object_key(path):
    with pytest.raises(BadJob):
        folder_of(path)


def test_a_name_no_file_system_holds_is_not_in_a_local_bucket(folder):
    assert not LocalBucket("shop", folder).exists("a" * 300 + "/increment.meta")
