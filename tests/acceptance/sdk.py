"""The official 2020-12-14 SDK, pointed at a Lookalike server, and small helpers to call it."""

from __future__ import annotations

import base64
import io

from alibabacloud_imagesearch20201214 import models
from alibabacloud_imagesearch20201214.client import Client
from alibabacloud_tea_openapi import models as open_api_models
from darabonba.runtime import RuntimeOptions

from tests.acceptance.server import ACCESS_KEY_ID, ACCESS_KEY_SECRET

SIGNATURE_MODES = ("acs3", "rpc-v2")


def make_client(
    endpoint: str, mode: str = "acs3", key_id: str = ACCESS_KEY_ID, secret: str = ACCESS_KEY_SECRET
) -> Client:
    config = open_api_models.Config(
        access_key_id=key_id,
        access_key_secret=secret,
        endpoint=endpoint,
        protocol="http",  # every action hard-codes HTTPS otherwise
        region_id="cn-shanghai",
    )
    if mode == "rpc-v2":
        config.signature_algorithm = "v2"  # classic RPC HMAC-SHA1 query signature
    return Client(config)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def add(client: Client, instance: str, product_id: str, pic_name: str, picture: bytes, **fields):
    request = models.AddImageRequest(
        instance_name=instance, product_id=product_id, pic_name=pic_name, pic_content=b64(picture), **fields
    )
    return client.add_image(request).body


def add_streamed(client: Client, instance: str, product_id: str, pic_name: str, picture: bytes, **fields):
    """AddImage with a file stream (`add_image_advance`): uploaded to the client's open platform endpoint."""
    request = models.AddImageAdvanceRequest(
        instance_name=instance,
        product_id=product_id,
        pic_name=pic_name,
        pic_content_object=io.BytesIO(picture),
        **fields,
    )
    return client.add_image_advance(request, RuntimeOptions()).body


def search_pic(client: Client, instance: str, picture: bytes, **options):
    request = models.SearchImageByPicRequest(instance_name=instance, pic_content=b64(picture), **options)
    return client.search_image_by_pic(request).body


def search_name(client: Client, instance: str, product_id: str, pic_name: str, **options):
    request = models.SearchImageByNameRequest(
        instance_name=instance, product_id=product_id, pic_name=pic_name, **options
    )
    return client.search_image_by_name(request).body


def delete(client: Client, instance: str, **fields):
    return client.delete_image(models.DeleteImageRequest(instance_name=instance, **fields)).body


def found(body) -> list[tuple[str, str]]:
    """(ProductId, PicName) of each result, best first."""
    return [(a.product_id, a.pic_name) for a in body.auctions]
