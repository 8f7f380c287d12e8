"""Runs inside a virtual environment of its own with SDK 3.1.3 (requirements.txt), not in the test process.

Reads {endpoint, key_id, secret, instance, pictures: [base64, base64], distributions} on stdin, calls every
action of 3.1.3 (and its *_advance methods) against that server, and prints what the SDK returned as JSON,
with the versions of those distributions that it found.
"""

import base64
import io
import json
import sys
from importlib.metadata import version

from alibabacloud_imagesearch20201214 import models
from alibabacloud_imagesearch20201214.client import Client
from alibabacloud_tea_openapi.models import Config
from alibabacloud_tea_util.models import RuntimeOptions


def main() -> None:
    args = json.load(sys.stdin)
    config = Config(
        access_key_id=args["key_id"],
        access_key_secret=args["secret"],
        endpoint=args["endpoint"],
        protocol="http",
        region_id="cn-shanghai",
    )
    client = Client(config)
    client._open_platform_endpoint = args["endpoint"]  # for the *_advance methods
    instance, (first, second) = args["instance"], args["pictures"]
    out = {}
    out["add"] = client.add_image(
        models.AddImageRequest(
            instance_name=instance,
            product_id="p1",
            pic_name="a.jpg",
            pic_content=first,
            int_attr=5,
            str_attr="x",
        )
    ).body.to_map()
    out["search_by_pic"] = client.search_image_by_pic(
        models.SearchImageByPicRequest(instance_name=instance, pic_content=first, num=5)
    ).body.to_map()
    out["search_by_name"] = client.search_image_by_name(
        models.SearchImageByNameRequest(instance_name=instance, product_id="p1", pic_name="a.jpg")
    ).body.to_map()
    out["add_advance"] = client.add_image_advance(
        models.AddImageAdvanceRequest(
            instance_name=instance,
            product_id="p2",
            pic_name="b.jpg",
            pic_content_object=io.BytesIO(base64.b64decode(second)),
        ),
        RuntimeOptions(),
    ).body.to_map()
    out["search_advance"] = client.search_image_by_pic_advance(
        models.SearchImageByPicAdvanceRequest(
            instance_name=instance, pic_content_object=io.BytesIO(base64.b64decode(second))
        ),
        RuntimeOptions(),
    ).body.to_map()
    out["delete"] = client.delete_image(
        models.DeleteImageRequest(instance_name=instance, product_id="p1")
    ).body.to_map()
    try:
        client.search_image_by_pic(models.SearchImageByPicRequest(instance_name="no-such", pic_content=first))
    except Exception as error:  # the SDK's own exception type, reported by name
        out["error"] = {"type": type(error).__name__, "code": error.code, "data": error.data}
    out["versions"] = {name: version(name) for name in args["distributions"]}
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
