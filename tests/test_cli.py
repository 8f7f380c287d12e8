"""The command line other tools rely on: `lookalike instance create|list` and the key pair."""

from __future__ import annotations

import json

import pytest

from lookalike.cli import main
from lookalike.config import load_access_keys


def test_create_and_list_instances(tmp_path, capsys):
    assert main(["instance", "create", "shoes", "--data", str(tmp_path)]) == 0
    assert (
        main(
            [
                "instance",
                "create",
                "photos",
                "--type",
                "generic",
                "--capacity",
                "500",
                "--data",
                str(tmp_path),
            ]
        )
        == 0
    )
    capsys.readouterr()
    assert main(["instance", "list", "--data", str(tmp_path)]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert listed == ["photos\tgeneric\tcapacity 500", "shoes\tproduct\tcapacity 10000000"]


def test_an_instance_name_is_unique(tmp_path, capsys):
    assert main(["instance", "create", "shoes", "--data", str(tmp_path)]) == 0
    assert main(["instance", "create", "shoes", "--data", str(tmp_path)]) == 2
    assert "already exists" in capsys.readouterr().err


@pytest.mark.parametrize("name", ["a" * 21, "", "_x", "with space", "../up", "ü"])
def test_instance_names_are_short_and_plain(tmp_path, capsys, name):
    assert main(["instance", "create", name, "--data", str(tmp_path)]) == 2
    assert "invalid instance name" in capsys.readouterr().err


def test_the_first_start_creates_a_key_pair_once(tmp_path):
    keys, created = load_access_keys(tmp_path, environ={})
    assert created
    again, created_again = load_access_keys(tmp_path, environ={})
    assert not created_again and again.secrets == keys.secrets
    assert (tmp_path / "access_keys.json").stat().st_mode & 0o777 == 0o600
    (pair,) = json.loads((tmp_path / "access_keys.json").read_text())
    assert keys.secret_for(pair["access_key_id"]) == pair["access_key_secret"]


def test_keys_from_the_environment_win(tmp_path):
    keys, created = load_access_keys(
        tmp_path, environ={"LOOKALIKE_ACCESS_KEY_ID": "id", "LOOKALIKE_ACCESS_KEY_SECRET": "s"}
    )
    assert keys.secrets == {"id": "s"} and not created
    assert not (tmp_path / "access_keys.json").exists()
