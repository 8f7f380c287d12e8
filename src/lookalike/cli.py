"""The `lookalike` command: serve, and manage instances."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from lookalike.config import Settings, data_dir_from_env, load_access_keys
from lookalike.service.buckets import parse_bucket_option
from lookalike.service.instances import Instances


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return args.run(args)


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="lookalike", description=__doc__)
    commands = root.add_subparsers(required=True, metavar="COMMAND")

    serve_cmd = commands.add_parser("serve", help="start the server")
    add_data_option(serve_cmd)
    serve_cmd.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    serve_cmd.add_argument("--port", type=int, default=8080, help="port to listen on (default: 8080)")
    serve_cmd.add_argument("--store", default=None, help="storage engine URI (default: the embedded engine)")
    add_bucket_option(serve_cmd)
    serve_cmd.add_argument(
        "--public-url", help="base of MetaUrl and ErrorUrl links (default: the Host the request came to)"
    )
    serve_cmd.add_argument(
        "--link-ttl",
        type=int,
        default=Settings.link_ttl_seconds,
        metavar="SECONDS",
        help=f"how long those links work (default: {Settings.link_ttl_seconds})",
    )
    serve_cmd.set_defaults(run=serve)

    import_cmd = commands.add_parser(
        "import", help="run a bulk import (increment.meta + images) into an instance, with a progress bar"
    )
    import_cmd.add_argument("instance", help="the instance to import into")
    import_cmd.add_argument(
        "source", metavar="BUCKET", help="a bucket NAME (see --bucket), or a folder or s3://bucket/prefix URI"
    )
    import_cmd.add_argument(
        "path", nargs="?", default="/", help="the folder in the bucket that holds increment.meta (default: /)"
    )
    import_cmd.add_argument("--callback", help="an http(s) URL to POST the outcome to when the job ends")
    add_bucket_option(import_cmd)
    add_data_option(import_cmd)
    import_cmd.set_defaults(run=run_import)

    instance_cmd = commands.add_parser("instance", help="create and list instances")
    instance_sub = instance_cmd.add_subparsers(required=True, metavar="ACTION")
    create = instance_sub.add_parser("create", help="create an instance (the server need not be stopped)")
    create.add_argument("name", help="instance name: up to 20 letters, digits, '-' or '_'")
    create.add_argument("--type", choices=["product", "generic"], default="product", help="default: product")
    create.add_argument("--capacity", type=int, default=10_000_000, help="most images it may hold")
    add_data_option(create)
    create.set_defaults(run=instance_create)
    listing = instance_sub.add_parser("list", help="list instances")
    add_data_option(listing)
    listing.set_defaults(run=instance_list)
    return root


def add_data_option(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--data",
        type=Path,
        default=data_dir_from_env(),
        help="data directory (default: $LOOKALIKE_DATA_DIR or ./lookalike-data)",
    )


def add_bucket_option(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--bucket",
        action="append",
        default=[],
        metavar="NAME=LOCATION",
        help="a bucket to import from: NAME=DIR, or "
        "NAME=s3://bucket/prefix[?endpoint=URL&region=R&profile=P] (repeatable)",
    )


def serve(args: argparse.Namespace) -> int:
    import uvicorn

    from lookalike.app import build_app

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = Settings(
            data_dir=args.data,
            host=args.host,
            port=args.port,
            store_uri=args.store,
            buckets=dict(parse_bucket_option(option) for option in args.bucket),
            public_url=args.public_url.rstrip("/") if args.public_url else None,
            link_ttl_seconds=args.link_ttl,
        )
    except ValueError as error:
        print(f"lookalike: {error}", file=sys.stderr)
        return 2
    keys, created = load_access_keys(settings.data_dir)
    if created:
        ((key_id, secret),) = keys.secrets.items()
        print(
            f"Created an access key pair in {settings.data_dir}:\n"
            f"  AccessKeyId:     {key_id}\n  AccessKeySecret: {secret}\n"
            "It is shown only this once; set LOOKALIKE_ACCESS_KEY_ID/SECRET to use your own.",
            flush=True,
        )
    try:
        app = build_app(settings, keys)
    except ValueError as error:  # a store or a bucket that cannot be opened
        print(f"lookalike: {error}", file=sys.stderr)
        return 2
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="info", access_log=False)
    return 0


def run_import(args: argparse.Namespace) -> int:
    from lookalike import import_command

    return import_command.run(args)


def instance_create(args: argparse.Namespace) -> int:
    try:
        instance = Instances(args.data / "instances").create(args.name, args.type, args.capacity)
    except ValueError as error:
        print(f"lookalike: {error}", file=sys.stderr)
        return 2
    print(f"created {instance.type} instance {instance.name!r} (capacity {instance.capacity}) in {args.data}")
    return 0


def instance_list(args: argparse.Namespace) -> int:
    for instance in Instances(args.data / "instances").list():
        print(f"{instance.name}\t{instance.type}\tcapacity {instance.capacity}")
    return 0
