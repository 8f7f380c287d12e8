"""Settings, each declared once with its default: where data lives, where to listen, which engine and models,
the buckets imports read, the links jobs hand out, and the limits of a connection.

Every setting is also the environment variable LOOKALIKE_<NAME> and the option --<name> of `lookalike serve`
(the option wins over the variable, the variable over the default); `--help` lists them all. The access keys
are in `access_keys`.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from lookalike.vision.budget import DEFAULT_BYTES as DECODE_BUDGET_BYTES


def setting(
    default: Any,
    help: str,
    parse: Callable[[str], Any] = str,
    *,
    option: str = "",
    env: str = "",
    metavar: str | None = None,
    unset: str = "",
    show: Callable[[Any], str] = str,
) -> Any:
    """A field of Settings: its default and help, how its text form is read (and `show`n), and its option's
    and environment variable's names when they are not the field's (`unset`: what a default of None means)."""
    meta = {"help": help, "parse": parse, "option": option, "env": env, "metavar": metavar, "unset": unset}
    meta["show"] = show
    if isinstance(default, dict):
        return field(default_factory=dict, metadata=meta)
    return field(default=default, metadata=meta)


def bucket_entry(text: str) -> tuple[str, str]:
    """`NAME=LOCATION`, as given to --bucket (a folder, or s3://bucket/prefix)."""
    name, sep, location = text.partition("=")
    if not (sep and name and location):
        raise ValueError(f"a bucket is NAME=DIR or NAME=s3://bucket/prefix, not {text!r}")
    return name, location


def _optional_text(text: str) -> str | None:
    return text or None


def _boolean(text: str) -> bool:
    if text.lower() not in ("1", "true", "yes", "0", "false", "no"):
        raise ValueError(f"true or false, not {text!r}")
    return text.lower() in ("1", "true", "yes")


@dataclass(frozen=True)
class Settings:
    data_dir: Path = setting(Path("lookalike-data"), "data directory", Path, option="--data")
    host: str = setting("127.0.0.1", "address to listen on")
    port: int = setting(8080, "port to listen on", int)
    store_uri: str | None = setting(
        None,
        "storage engine: qdrant-edge (embedded, in the data directory) or milvus://host:port "
        "(docs/milvus.md)",
        _optional_text,
        option="--store",
        env="LOOKALIKE_STORE",
        unset="qdrant-edge",
    )
    max_body_bytes: int = setting(8 * 1024 * 1024, "the largest request body accepted, in bytes", int)
    clock_skew_seconds: int = setting(
        15 * 60, "how far a request's signed time may be from this server's clock", int
    )
    model_threads: int | None = setting(
        None, "threads of each model run", int, unset="one per core (each detector: one)"
    )
    image_model: Path | None = setting(None, "an ONNX image model", Path, unset="EfficientNet-Lite0")
    text_model: Path | None = setting(
        None, "the ONNX text tower of the image model, for SearchImageByText", Path, unset="none"
    )
    tls_cert: Path | None = setting(None, "serve HTTPS with this certificate (PEM)", Path, unset="none")
    tls_key: Path | None = setting(None, "the certificate's private key (PEM)", Path, unset="none")
    region_id: str = setting("cn-shanghai", "the region the service reports it runs in")
    buckets: dict[str, str] = setting(
        {},
        "a bucket to import from: NAME=DIR or NAME=s3://bucket/prefix[?endpoint=URL&region=R&profile=P] "
        "(repeatable; in the environment, separated by spaces)",
        bucket_entry,
        option="--bucket",
        metavar="NAME=LOCATION",
    )
    public_url: str | None = setting(
        None,
        "base of MetaUrl and ErrorUrl links",
        lambda text: text.rstrip("/") or None,
        unset="the Host the request came to",
    )
    link_ttl_seconds: int = setting(
        2 * 60 * 60, "how long those links work, in seconds", int, option="--link-ttl"
    )
    header_timeout_seconds: float = setting(
        10.0, "a request's line and headers must arrive within (s)", float, option="--header-timeout"
    )
    body_timeout_seconds: float = setting(
        60.0, "its body must arrive within, after the headers (s): 8 MB at 1.1 Mbit/s", float,
        option="--body-timeout",
    )  # fmt: skip
    max_connections: int = setting(
        1000,
        "connections open at once; past it, the one waiting longest for a request is closed, else the one "
        "whose body arrives slowest below --slow-body-rate, or the new one answered 503",
        int,
    )
    slow_body_rate: float = setting(
        8192.0,
        "bytes a second under which, past --max-connections, a body's connection may be closed for a new one "
        "(0: never)",
        float,
    )
    decode_memory_bytes: int = setting(
        DECODE_BUDGET_BYTES,
        "memory the pictures being decoded may take together, in MB; more wait",
        lambda mb: int(mb) * 2**20,
        option="--decode-memory",
        env="LOOKALIKE_DECODE_MEMORY_MB",
        metavar="MB",
        show=lambda size: f"{size // 2**20}",
    )
    log_json: bool = setting(
        False,
        "log one JSON object a line: each request's line, and every other",
        _boolean,
        unset="plain text",
    )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """The defaults, with what the environment's LOOKALIKE_* variables set instead."""
        env = os.environ if environ is None else environ
        values = {f.name: _read(f.name, text) for f in fields(cls) if (text := env.get(env_name(f.name)))}
        return cls(**values)

    @classmethod
    def from_options(cls, options: argparse.Namespace) -> Settings:
        """The settings a command line parsed (see `add_options`); those it has no option for, defaulted."""
        given = vars(options)
        return cls(**{f.name: given[dest(f.name)] for f in fields(cls) if dest(f.name) in given})


def add_options(
    command: argparse.ArgumentParser, names: Sequence[str] = (), environ: Mapping[str, str] | None = None
) -> None:
    """The options of the named settings (all by default), defaulting to the environment, else the default."""
    base = Settings.from_env(environ)
    for f in fields(Settings):
        if names and f.name not in names:
            continue
        meta, default = f.metadata, getattr(base, f.name)
        kind: dict[str, Any] = {"type": meta["parse"]}
        if isinstance(default, dict):
            kind = {"action": _Entries}
        elif isinstance(default, bool):
            kind = {"action": argparse.BooleanOptionalAction}
        command.add_argument(
            option(f.name),
            dest=dest(f.name),
            default=default,
            metavar=meta["metavar"],
            help=f"{meta['help']} (default: {_shown(f.name, default)}; ${env_name(f.name)})",
            **kind,
        )


def option(name: str) -> str:
    return _metadata(name)["option"] or "--" + name.replace("_", "-")


def dest(name: str) -> str:
    return option(name).removeprefix("--").replace("-", "_")


def env_name(name: str) -> str:
    return _metadata(name)["env"] or "LOOKALIKE_" + name.upper()


def _metadata(name: str) -> Mapping[str, Any]:
    return _FIELDS[name].metadata


def _read(name: str, text: str) -> Any:
    """A setting's value from its text form (in the environment, buckets are separated by spaces)."""
    parse = _metadata(name)["parse"]
    if name == "buckets":
        return dict(parse(entry) for entry in text.split())
    try:
        return parse(text)
    except ValueError as error:
        raise ValueError(f"{env_name(name)}={text!r}: {error}") from None


def _shown(name: str, value: Any) -> str:
    if isinstance(value, dict):
        return " ".join(f"{key}={location}" for key, location in value.items()) or "none"
    return str(_metadata(name)["unset"]) if value is None else str(_metadata(name)["show"](value))


class _Entries(argparse.Action):
    """A repeatable NAME=VALUE option that fills a dict (the environment's entries first)."""

    def __call__(
        self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, value: Any, *_: Any
    ) -> None:
        try:
            name, location = bucket_entry(str(value))
        except ValueError as error:
            parser.error(str(error))
        setattr(namespace, self.dest, {**getattr(namespace, self.dest), name: location})


_FIELDS = {f.name: f for f in fields(Settings)}
