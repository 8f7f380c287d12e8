"""The `lookalike` command: serve, and manage instances."""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from lookalike.config import Settings, data_dir_from_env, load_access_keys, store_uri_from_env
from lookalike.errors import LookalikeError
from lookalike.service.instances import Instances
from lookalike.store.base import Store


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.run(args)
    except (ValueError, OSError, LookalikeError) as error:  # what the user can mend: one line, no traceback
        print(f"lookalike: {getattr(error, 'message', error)}", file=sys.stderr)
        return 2


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="lookalike", description=__doc__)
    commands = root.add_subparsers(required=True, metavar="COMMAND")

    serve_cmd = commands.add_parser("serve", help="start the server")
    add_data_option(serve_cmd)
    serve_cmd.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    serve_cmd.add_argument("--port", type=int, default=8080, help="port to listen on (default: 8080)")
    add_store_option(serve_cmd)
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
    export = instance_sub.add_parser(
        "export", help="write an instance and its images, vectors included, as JSON lines"
    )
    export.add_argument("name", help="the instance")
    export.add_argument("--output", "-o", default="-", help="file to write (default: standard output)")
    add_data_option(export)
    add_store_option(export)
    export.set_defaults(run=instance_export)
    load = instance_sub.add_parser("import", help="add the images of an export to an instance")
    load.add_argument("file", help="an export file, or - for standard input")
    load.add_argument("--name", help="the instance to fill (default: the exported one's name)")
    add_data_option(load)
    add_store_option(load)
    load.set_defaults(run=instance_import)
    return root


def add_data_option(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--data",
        type=Path,
        default=data_dir_from_env(),
        help="data directory (default: $LOOKALIKE_DATA_DIR or ./lookalike-data)",
    )


def add_store_option(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--store",
        default=store_uri_from_env(),
        help="storage engine: qdrant-edge (embedded, in the data directory) or milvus://host:port "
        "(see the README); default: $LOOKALIKE_STORE or qdrant-edge",
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
    instance = Instances(args.data / "instances").create(args.name, args.type, args.capacity)
    print(f"created {instance.type} instance {instance.name!r} (capacity {instance.capacity}) in {args.data}")
    return 0


def instance_list(args: argparse.Namespace) -> int:
    for instance in Instances(args.data / "instances").list():
        print(f"{instance.name}\t{instance.type}\tcapacity {instance.capacity}")
    return 0


def instance_export(args: argparse.Namespace) -> int:
    from lookalike.service.transfer import export_instance

    with _store(args) as store, _open(args.output, "w", sys.stdout) as out:
        count = export_instance(Instances(args.data / "instances"), store, args.name, out)
    print(f"exported {count} images of {args.name!r}", file=sys.stderr)
    return 0


def instance_import(args: argparse.Namespace) -> int:
    from lookalike.service.transfer import import_instance

    with _store(args) as store, _open(args.file, "r", sys.stdin) as lines:
        instance, count = import_instance(Instances(args.data / "instances"), store, lines, args.name)
    print(f"imported {count} images into {instance.name!r}", file=sys.stderr)
    return 0


@contextlib.contextmanager
def _store(args: argparse.Namespace) -> Iterator[Store]:
    from lookalike.store import open_store

    store = open_store(args.store, args.data / "store")
    try:
        yield store
    finally:
        store.close()


def _open(path: str, mode: str, standard: TextIO) -> contextlib.AbstractContextManager[TextIO]:
    return contextlib.nullcontext(standard) if path == "-" else open(path, mode)
