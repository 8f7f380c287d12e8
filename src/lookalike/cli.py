"""The `lookalike` command: serve, and manage instances and access keys."""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Callable, Iterator
from typing import Any, TextIO, cast

from lookalike import __version__, admin_command
from lookalike.access_keys import load_access_keys
from lookalike.api.errors import ApiError
from lookalike.api.observe import configure_logging
from lookalike.config import Settings, add_options
from lookalike.domain.errors import LookalikeError
from lookalike.progress import Progress
from lookalike.service.instances import Instances
from lookalike.service.models import CLOUD_QPS, DEFAULT_CAPACITY, INSTANCE_TYPES, REQUEST_KINDS
from lookalike.store.base import Store

# How long a stopping server lets requests in flight finish before it closes its data and exits: under the
# 10 s a container runtime waits before it kills. It also bounds each client's TLS close, which asyncio
# would otherwise await for 30 s, and an idle keep-alive client (every SDK keeps one) never answers it.
GRACEFUL_SHUTDOWN_SECONDS = 5
# How long an idle keep-alive connection stays open. The SDKs keep their connections in a pool and reuse
# them; one reused just as the server closes it is reset, and the SDK does not send its POST again. With
# uvicorn's 5 s that cost 2 of 16,000 requests of bench/bench_mixed.py; idle connections cost little, and
# past --max-connections they are the first closed.
KEEP_ALIVE_SECONDS = 60


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if getattr(args, "data_must_exist", False) and not args.data.is_dir():
        print(
            f"lookalike: no data directory at {args.data}: give --data DIR or set LOOKALIKE_DATA_DIR "
            "(`lookalike serve` and `lookalike instance create` make a new one)",
            file=sys.stderr,
        )
        return 2
    try:
        return int(args.run(args))
    except (ValueError, OSError, LookalikeError, ApiError) as error:  # what the user can mend: one line
        print(f"lookalike: {getattr(error, 'message', error)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("lookalike: interrupted", file=sys.stderr)
        return 130


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="lookalike", description=__doc__)
    root.add_argument("--version", action="version", version=f"lookalike {__version__}")
    commands = root.add_subparsers(required=True, metavar="COMMAND")

    serve_cmd = commands.add_parser("serve", help="start the server (every setting: docs/configuration.md)")
    add_options(serve_cmd)
    serve_cmd.set_defaults(data_must_exist=False)
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
    add_data_options(import_cmd, "buckets", "store_uri", must_exist=False)
    import_cmd.set_defaults(run=run_import)

    instance_cmd = commands.add_parser("instance", help="create, list, show, update and delete instances")
    instance_sub = instance_cmd.add_subparsers(required=True, metavar="ACTION")
    create = instance_sub.add_parser("create", help="create an instance (the server need not be stopped)")
    create.add_argument("name", help="instance name: up to 20 letters, digits, '-' or '_'")
    create.add_argument("--type", choices=list(INSTANCE_TYPES), default="product", help="default: product")
    create.add_argument("--capacity", type=int, default=DEFAULT_CAPACITY, help="most images it may hold")
    add_setting_options(create, "no limit")
    add_data_options(create, must_exist=False)
    create.set_defaults(run=admin_command.create)
    listing = instance_sub.add_parser("list", help="list instances")
    add_data_options(listing)
    listing.set_defaults(run=admin_command.list_)
    show = instance_sub.add_parser("show", help="an instance's type, images, capacity and limits")
    show.add_argument("name", help="the instance")
    add_data_options(show, "store_uri")
    show.set_defaults(run=admin_command.show)
    update = instance_sub.add_parser("update", help="change an instance's capacity or request limits")
    update.add_argument("name", help="the instance")
    update.add_argument("--capacity", type=int, default=None, help="most images it may hold")
    add_setting_options(update, "unchanged")
    add_data_options(update, "store_uri")
    update.set_defaults(run=admin_command.update)
    delete = instance_sub.add_parser(
        "delete", help="delete an instance and everything it holds: images, vectors, jobs and their files"
    )
    delete.add_argument("name", help="the instance")
    add_data_options(delete, "store_uri")
    delete.set_defaults(run=admin_command.delete)
    export = instance_sub.add_parser(
        "export", help="write an instance and its images, vectors included, as JSON lines"
    )
    export.add_argument("name", help="the instance")
    export.add_argument("--output", "-o", default="-", help="file to write (default: standard output)")
    add_data_options(export, "store_uri")
    export.set_defaults(run=instance_export)
    load = instance_sub.add_parser("import", help="add the images of an export to an instance")
    load.add_argument("file", help="an export file, or - for standard input")
    load.add_argument("--name", help="the instance to fill (default: the exported one's name)")
    add_data_options(load, "store_uri", must_exist=False)
    load.set_defaults(run=instance_import)

    keys_cmd = commands.add_parser("keys", help="create, list and revoke access keys")
    keys_sub = keys_cmd.add_subparsers(required=True, metavar="ACTION")
    key_create = keys_sub.add_parser(
        "create", help="create an access key pair (the server need not be stopped)"
    )
    key_create.add_argument(
        "--instances", default=None, metavar="A,B", help="the only instances it may use (default: all)"
    )
    add_data_options(key_create, must_exist=False)
    key_create.set_defaults(run=admin_command.keys_create)
    key_list = keys_sub.add_parser("list", help="list access keys, without their secrets")
    add_data_options(key_list)
    key_list.set_defaults(run=admin_command.keys_list)
    key_revoke = keys_sub.add_parser(
        "revoke", help="revoke an access key: every server refuses it from its next request on"
    )
    key_revoke.add_argument("access_key_id", metavar="ACCESS_KEY_ID", help="the key to revoke")
    add_data_options(key_revoke)
    key_revoke.set_defaults(run=admin_command.keys_revoke)
    return root


def add_data_options(command: argparse.ArgumentParser, *settings: str, must_exist: bool = True) -> None:
    """--data and the options of the other settings named; `must_exist`: the command only reads or changes
    what is there, so a data directory that is not there is a mistake (a wrong path), said in one line."""
    add_options(command, ["data_dir", *settings])
    command.set_defaults(data_must_exist=must_exist)


def add_setting_options(command: argparse.ArgumentParser, unset: str) -> None:
    for kind in REQUEST_KINDS:
        command.add_argument(
            f"--{kind}-qps",
            type=int,
            default=None,
            metavar="N",
            help=f"{kind} requests per second it answers; 0: no limit (default: {unset})",
        )
    command.add_argument(
        "--thumbnails",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="keep a small copy of each picture added, for the console (default: on, for a new instance)",
    )
    limits = ", ".join(f"{kind} {qps}/s" for kind, qps in CLOUD_QPS.items())
    command.add_argument(
        "--cloud-limits",
        action="store_true",
        help=f"the cloud's limits ({limits}), for a faithful local double; a --KIND-qps wins over it",
    )


def serve(args: argparse.Namespace) -> int:
    import uvicorn

    from lookalike.api.connections import Limits, protocol_with, raise_file_limit
    from lookalike.app import build_app

    settings = Settings.from_options(args)
    configure_logging(as_json=settings.log_json)
    if (settings.tls_cert is None) != (settings.tls_key is None):
        print("lookalike: --tls-cert and --tls-key go together", file=sys.stderr)
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
    except (ValueError, OSError) as error:  # a model that cannot serve, a store or a bucket that cannot be
        # opened, a data directory another process holds
        print(f"lookalike: {error}", file=sys.stderr)
        return 2
    limits = Limits(
        settings.header_timeout_seconds,
        settings.body_timeout_seconds,
        settings.max_connections,
        settings.slow_body_rate,
    )
    raise_file_limit(limits.max_connections)
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        http=protocol_with(limits),
        log_level="info",
        log_config=None,  # uvicorn's own lines go through the handler above, JSON with --log-json
        access_log=False,  # one line per request is Lookalike's own (api/observe.py)
        ssl_certfile=settings.tls_cert,
        ssl_keyfile=settings.tls_key,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
    )
    return 0


def run_import(args: argparse.Namespace) -> int:
    from lookalike import import_command

    return import_command.run(args)


def instance_export(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from lookalike.service.transfer import export_instance
    from lookalike.vision.fingerprint import recorded_in

    made_by = recorded_in(args.data)
    model = None if made_by is None else asdict(made_by)
    with _store(args) as store, _open(args.output, "w", sys.stdout) as out, _progress("export") as shown:
        count = export_instance(Instances(args.data / "instances"), store, args.name, out, shown, model)
    print(f"exported {count} images of {args.name!r}", file=sys.stderr)
    return 0


def instance_import(args: argparse.Namespace) -> int:
    from lookalike.service.transfer import import_instance
    from lookalike.vision.fingerprint import check_or_record, exported

    def accept(model: dict[str, Any] | None, vector_size: int) -> None:
        """Vectors another model made (or the same one another way) must not join the stored ones."""
        check_or_record(args.data, exported(model, vector_size))

    with _store(args) as store, _open(args.file, "r", sys.stdin) as lines, _progress("import") as shown:
        instances = Instances(args.data / "instances")
        instance, count = import_instance(instances, store, lines, args.name, shown, accept)
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


@contextlib.contextmanager
def _progress(what: str) -> Iterator[Callable[[int, int | None], None]]:
    progress = Progress(what, "image")
    try:
        yield lambda done, total: progress.show(done, total)
    finally:
        progress.close()


def _open(path: str, mode: str, standard: TextIO) -> contextlib.AbstractContextManager[TextIO]:
    return contextlib.nullcontext(standard) if path == "-" else cast(TextIO, open(path, mode))
