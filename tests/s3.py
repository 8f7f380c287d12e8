"""An S3-compatible store on loopback, for the bucket tests.

A FAKE, named as such: moto's server mode emulates the S3 API. No real S3 can run here and no package
registry ships a MinIO server, so it stands in for "any S3-compatible store". Lookalike reaches it the way
it reaches any other: boto3 over real HTTP, with an endpoint and credentials from its settings.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import boto3
from moto.server import ThreadedMotoServer

# What the fake accepts; a server under test gets them from the environment, as boto3 reads them anywhere.
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "fake-access-key",
    "AWS_SECRET_ACCESS_KEY": "fake-secret-key",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@contextmanager
def fake_s3() -> Iterator[str]:
    """The endpoint URL of a fresh S3 emulator on 127.0.0.1, stopped at the end."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def s3_client(endpoint: str):
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        region_name=CREDENTIALS["AWS_DEFAULT_REGION"],
    )
