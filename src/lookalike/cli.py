"""The `lookalike` command: serve, and manage instances."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from lookalike.config import Settings, data_dir_from_env, load_access_keys
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
    serve_cmd.set_defaults(run=serve)

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


def serve(args: argparse.Namespace) -> int:
    import uvicorn

    from lookalike.app import build_app

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = Settings(data_dir=args.data, host=args.host, port=args.port, store_uri=args.store)
    keys, created = load_access_keys(settings.data_dir)
    if created:
        ((key_id, secret),) = keys.secrets.items()
        print(
            f"Created an access key pair in {settings.data_dir}:\n"
            f"  AccessKeyId:     {key_id}\n  AccessKeySecret: {secret}\n"
            "It is shown only this once; set LOOKALIKE_ACCESS_KEY_ID/SECRET to use your own.",
            flush=True,
        )
    app = build_app(settings, keys)
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="info", access_log=False)
    return 0


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
