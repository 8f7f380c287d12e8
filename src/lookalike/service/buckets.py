"""Buckets a bulk import reads from: a local folder, or an S3-compatible store through boto3.

A bucket is named on the command line (`--bucket NAME=DIR` or `--bucket NAME=s3://bucket/prefix`); the wire
names it by BucketName. Keys are '/'-separated paths relative to the bucket, as in object storage.
"""

from __future__ import annotations

import errno
import shutil
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO, Protocol
from urllib.parse import parse_qs, urlsplit

from lookalike.domain.errors import BadJob

S3_OPTIONS = ("endpoint", "region", "profile")
META_FILE = "increment.meta"
MAX_PATH_BYTES = 1024


class Bucket(Protocol):
    name: str

    def read(self, key: str, limit: int) -> bytes:
        """The object's bytes, at most `limit` of them; FileNotFoundError if there is no such object."""
        ...

    def download(self, key: str, target: BinaryIO) -> None:
        """Copy the whole object into `target`; FileNotFoundError if there is no such object."""
        ...

    def exists(self, key: str) -> bool: ...


class LocalBucket:
    """A folder on this machine; keys never reach outside it."""

    def __init__(self, name: str, root: Path):
        self.name = name
        self.root = root.resolve()

    def _file(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root):
            raise FileNotFoundError(f"{key!r} lies outside bucket {self.name!r}")
        return path

    def read(self, key: str, limit: int) -> bytes:
        with self._file(key).open("rb") as f:
            return f.read(limit)

    def download(self, key: str, target: BinaryIO) -> None:
        with self._file(key).open("rb") as source:
            shutil.copyfileobj(source, target)

    def exists(self, key: str) -> bool:
        try:
            return self._file(key).is_file()
        except OSError as error:  # FileNotFoundError, or a name too long for this file system
            if isinstance(error, FileNotFoundError) or error.errno == errno.ENAMETOOLONG:
                return False
            raise


class S3Bucket:
    """A bucket of any S3-compatible store. Endpoint, region and credentials come from boto3's own settings
    (AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_PROFILE, ~/.aws/...) unless the URI's query names them."""

    def __init__(self, name: str, bucket: str, prefix: str, options: dict[str, str]):
        try:
            import boto3  # optional: `pip install 'lookalike[s3]'`
        except ImportError:
            raise ValueError(
                f"bucket {name!r} is on S3, which needs boto3: pip install 'lookalike[s3]'"
            ) from None
        session = boto3.session.Session(profile_name=options.get("profile"))
        self.client = session.client(
            "s3", endpoint_url=options.get("endpoint"), region_name=options.get("region")
        )
        self.name, self.bucket, self.prefix = name, bucket, prefix

    def _get(self, key: str) -> Any:  # boto3's GetObject answer
        try:
            return self.client.get_object(Bucket=self.bucket, Key=self.prefix + key)
        except self.client.exceptions.NoSuchKey:
            raise FileNotFoundError(f"no object {key!r} in bucket {self.name!r}") from None

    def read(self, key: str, limit: int) -> bytes:
        body = self._get(key)["Body"]
        try:
            return bytes(body.read(limit))
        finally:
            body.close()

    def download(self, key: str, target: BinaryIO) -> None:
        body = self._get(key)["Body"]
        try:
            shutil.copyfileobj(body, target)
        finally:
            body.close()

    def exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self.prefix + key)
        except self.client.exceptions.ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True


def open_bucket(name: str, location: str) -> Bucket:
    """`DIR` or `s3://bucket/prefix?endpoint=URL&region=R&profile=P` (each option may be left out)."""
    if not location.startswith("s3://"):
        root = Path(location)
        if not root.is_dir():
            raise ValueError(f"bucket {name!r}: {location!r} is not a directory")
        return LocalBucket(name, root)
    url = urlsplit(location)
    options = {k: v[-1] for k, v in parse_qs(url.query).items()}
    if unknown := set(options) - set(S3_OPTIONS):
        raise ValueError(f"bucket {name!r}: unknown option {', '.join(sorted(unknown))}; known: {S3_OPTIONS}")
    if not url.netloc:
        raise ValueError(f"bucket {name!r}: {location!r} names no S3 bucket")
    prefix = url.path.strip("/")
    return S3Bucket(name, url.netloc, prefix + "/" if prefix else "", options)


class Buckets:
    """The buckets this server may read, by name."""

    def __init__(self, buckets: dict[str, Bucket]):
        self._buckets = buckets

    @classmethod
    def configure(cls, locations: dict[str, str]) -> Buckets:
        return cls({name: open_bucket(name, location) for name, location in locations.items()})

    def get(self, name: str) -> Bucket:
        if name not in self._buckets:
            known = ", ".join(sorted(self._buckets)) or "none (start the server with --bucket NAME=DIR)"
            raise BadJob(
                f"The request has invalid parameters: no bucket {name!r}; known: {known}",
            )
        return self._buckets[name]


def folder_of(path: str) -> str:
    """The folder a Path names, as a key prefix ('' for the root): `/p/increment.meta`, `/p/` and `/p` all
    name folder `p/`. The documented form starts with '/'; '..' would leave the bucket. An object key has at
    most 1,024 bytes and no control characters, as in OSS and S3."""
    if not path.startswith("/"):
        raise BadJob(
            f"The request has invalid parameters: Path must start with '/', not {path[:200]!r}",
        )
    if len(path.encode()) > MAX_PATH_BYTES or not path.isprintable():
        raise BadJob(
            f"The request has invalid parameters: Path must be at most {MAX_PATH_BYTES} bytes of UTF-8 "
            f"without control characters, not {path[:200]!r}",
        )
    parts = [p for p in PurePosixPath(path).parts[1:] if p]
    if ".." in parts:
        raise BadJob(f"The request has invalid parameters: Path {path[:200]!r} has '..'")
    if parts and parts[-1] == META_FILE:
        parts.pop()
    return "".join(f"{p}/" for p in parts)
