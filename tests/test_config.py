"""Settings: each declared once with its default, and each also an environment variable and an option of
`lookalike serve`, the option winning over the variable and the variable over the default."""

from __future__ import annotations

import argparse
from dataclasses import fields
from pathlib import Path

import pytest

from lookalike.config import Settings, add_options, bucket_entry, env_name, option


def parsed(argv: list[str], environ: dict[str, str], names: tuple[str, ...] = ()) -> Settings:
    command = argparse.ArgumentParser()
    add_options(command, names, environ)
    return Settings.from_options(command.parse_args(argv))


def test_without_environment_or_options_every_setting_is_its_default():
    assert Settings.from_env({}) == Settings() == parsed([], {})


def test_every_setting_has_an_option_and_an_environment_variable():
    names = [f.name for f in fields(Settings)]
    assert len({option(name) for name in names}) == len({env_name(name) for name in names}) == len(names)
    assert env_name("data_dir") == "LOOKALIKE_DATA_DIR" and env_name("store_uri") == "LOOKALIKE_STORE"
    assert option("data_dir") == "--data" and option("link_ttl_seconds") == "--link-ttl"


def test_the_environment_sets_what_the_options_do_not():
    environ = {
        "LOOKALIKE_DATA_DIR": "/srv/data",
        "LOOKALIKE_PORT": "9000",
        "LOOKALIKE_STORE": "milvus://db:19530",
        "LOOKALIKE_MODEL_THREADS": "2",
        "LOOKALIKE_BUCKETS": "shop=/srv/shop photos=s3://b/p?region=x",
        "LOOKALIKE_PUBLIC_URL": "https://search.example/",
        "LOOKALIKE_BODY_TIMEOUT_SECONDS": "2.5",
    }
    settings = parsed(["--port", "9100", "--bucket", "more=/srv/more"], environ)
    assert settings.data_dir == Path("/srv/data")
    assert settings.port == 9100  # the option wins
    assert settings.store_uri == "milvus://db:19530" and settings.model_threads == 2
    assert settings.buckets == {"shop": "/srv/shop", "photos": "s3://b/p?region=x", "more": "/srv/more"}
    assert settings.public_url == "https://search.example"
    assert settings.body_timeout_seconds == 2.5
    assert Settings.from_env(environ).port == 9000


def test_a_command_gets_only_the_options_it_names():
    settings = parsed(["--data", "/d"], {"LOOKALIKE_PORT": "9000"}, ("data_dir",))
    assert settings.data_dir == Path("/d") and settings.port == Settings.port  # no --port here


def test_a_value_that_cannot_be_read_names_its_variable():
    with pytest.raises(ValueError, match="LOOKALIKE_PORT='eighty'"):
        Settings.from_env({"LOOKALIKE_PORT": "eighty"})


def test_a_bucket_is_name_equals_location():
    assert bucket_entry("shop=s3://b/p?region=x=y") == ("shop", "s3://b/p?region=x=y")
    for bad in ("shop", "=dir", "shop="):
        with pytest.raises(ValueError, match="NAME=DIR"):
            bucket_entry(bad)
