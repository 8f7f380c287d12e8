"""File streams to a server behind HTTPS: SDK 4.x always uploads over HTTPS, so AuthorizeFileUpload splits the
host (PROTOCOL.md section 5, way B) and the upload comes to the root of the same TLS port.

The server here serves TLS itself (`serve --tls-cert/--tls-key`), with a certificate made for the test that
the client is told to trust, as `RuntimeOptions(ca=...)` allows. Such a server still stops promptly while
its clients keep their connections open.
"""

from __future__ import annotations

import http.client
import io
import signal
import ssl

import pytest
from alibabacloud_imagesearch20201214 import models
from alibabacloud_imagesearch20201214.client import Client
from alibabacloud_tea_openapi import models as open_api_models
from darabonba.runtime import RuntimeOptions

from lookalike.cli import GRACEFUL_SHUTDOWN_SECONDS
from tests.acceptance.conftest import create_instance
from tests.acceptance.sdk import found
from tests.acceptance.server import ACCESS_KEY_ID, ACCESS_KEY_SECRET, ServerProcess
from tests.acceptance.tls import self_signed_certificate


def test_file_streams_over_https(tls_server, photos):
    server, cert = tls_server
    config = open_api_models.Config(
        access_key_id=ACCESS_KEY_ID,
        access_key_secret=ACCESS_KEY_SECRET,
        endpoint=server.endpoint,
        protocol="https",
        region_id="cn-shanghai",
    )
    client = Client(config)
    client._open_platform_endpoint = server.endpoint
    runtime = RuntimeOptions(ca=str(cert))
    instance = create_instance(server.data_dir)
    add = models.AddImageAdvanceRequest(
        instance_name=instance,
        product_id="p1",
        pic_name="a.jpg",
        pic_content_object=io.BytesIO(photos["rocket"]),
    )
    assert client.add_image_advance(add, runtime).body.success
    search = models.SearchImageByPicAdvanceRequest(
        instance_name=instance, pic_content_object=io.BytesIO(photos["rocket"])
    )
    body = client.search_image_by_pic_advance(search, runtime).body
    assert found(body) == [("p1", "a.jpg")]
    assert body.auctions[0].score == pytest.approx(1.0, abs=1e-4)


def test_a_server_stops_promptly_and_cleanly_while_a_client_keeps_its_connection(tmp_path):
    """SIGTERM (Ctrl-C, `docker stop`) while a client holds an idle keep-alive connection, as every SDK does:
    the server closes its data and exits within the grace period, not after the 30 s asyncio would wait
    for that client to answer the TLS close."""
    cert, key = self_signed_certificate(tmp_path)
    server = ServerProcess(tmp_path / "data", extra_args=("--tls-cert", str(cert), "--tls-key", str(key)))
    server.start()
    idle = http.client.HTTPSConnection(
        "127.0.0.1", server.port, context=ssl.create_default_context(cafile=cert)
    )
    try:
        idle.request("GET", "/healthz")
        assert idle.getresponse().read()  # read, and the connection kept open
        server.process.send_signal(signal.SIGTERM)
        server.process.wait(timeout=GRACEFUL_SHUTDOWN_SECONDS + 10)
        assert "Application shutdown complete" in server.log()
    finally:
        idle.close()
        server.stop()
