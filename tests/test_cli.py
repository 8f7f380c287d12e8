"""The command line other tools rely on: `lookalike instance create|list` and the key pair."""

from __future__ import annotations

import json
from importlib import resources

import pytest

from lookalike import __version__
from lookalike.access_keys import load_access_keys
from lookalike.cli import main
from lookalike.store import open_store
from lookalike.vision.embedder import MODEL_ASSET


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


def test_instance_limits_on_the_command_line(tmp_path, capsys):
    args = ["instance", "create", "shop", "--search-qps", "2", "--add-qps", "0", "--delete-qps", "7"]
    assert main([*args, "--capacity", "9", "--data", str(tmp_path)]) == 0
    assert "search 2/s, add unlimited/s, delete 7/s" in capsys.readouterr().out
    stored = json.loads((tmp_path / "instances" / "shop.json").read_text())
    assert (stored["search_qps"], stored["add_qps"], stored["delete_qps"], stored["capacity"]) == (2, 0, 7, 9)
    assert main(["instance", "create", "bad", "--add-qps", "-1", "--data", str(tmp_path)]) == 2


def test_keys_limited_to_instances_and_seen_by_a_running_server_at_once(tmp_path, capsys):
    keys, _ = load_access_keys(
        tmp_path, environ={"LOOKALIKE_ACCESS_KEY_ID": "env", "LOOKALIKE_ACCESS_KEY_SECRET": "s"}
    )
    assert main(["keys", "create", "--instances", "shop, photos", "--data", str(tmp_path)]) == 0
    printed = dict(line.split(":", 1) for line in capsys.readouterr().out.splitlines()[:2])
    key_id, secret = printed["AccessKeyId"].strip(), printed["AccessKeySecret"].strip()
    limited = keys.get(key_id)  # the same AccessKeys object, loaded before the key existed
    assert limited is not None and limited.access_key_secret == secret
    assert limited.may_use("shop") and limited.may_use("photos") and not limited.may_use("other")
    assert keys.get("env").may_use("anything")  # the environment's key is not limited
    assert main(["keys", "create", "--data", str(tmp_path)]) == 0
    capsys.readouterr()
    assert main(["keys", "list", "--data", str(tmp_path)]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert listed[0] == f"{key_id}\tphotos,shop" and listed[1].endswith("\t*") and len(listed) == 2
    assert secret not in "".join(listed)


def test_serve_refuses_a_text_model_that_is_not_a_text_tower(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("LOOKALIKE_ACCESS_KEY_ID", "id")
    monkeypatch.setenv("LOOKALIKE_ACCESS_KEY_SECRET", "secret")
    image_model = str(resources.files("lookalike.vision").joinpath(MODEL_ASSET))
    assert main(["serve", "--text-model", image_model, "--data", str(tmp_path), "--port", "1"]) == 2
    assert "is not a text tower" in capsys.readouterr().err
    assert not (tmp_path / "store").exists()  # refused before anything was opened


def test_version(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"lookalike {__version__}"


def test_an_instance_shown_updated_and_deleted_without_a_server(tmp_path, capsys):
    data = ("--data", str(tmp_path))
    limits = ("--cloud-limits", "--add-qps", "2")
    assert main(["instance", "create", "shop", "--type", "fabric", *limits, *data]) == 0
    assert "search 10/s, add 2/s, delete 20/s" in capsys.readouterr().out
    assert main(["instance", "show", "shop", *data]) == 0
    shown = capsys.readouterr().out
    assert "type:      fabric (ServiceType 2)" in shown and "images:    0" in shown
    assert main(["instance", "update", "shop", "--search-qps", "0", "--capacity", "9", *data]) == 0
    assert "capacity 9; search unlimited/s, add 2/s, delete 20/s" in capsys.readouterr().out
    assert main(["instance", "update", "shop", *data]) == 2
    assert "nothing to change" in capsys.readouterr().err
    assert main(["instance", "delete", "shop", *data]) == 0
    assert "deleted instance 'shop' and its 0 images" in capsys.readouterr().out
    assert main(["instance", "list", *data]) == 0
    assert capsys.readouterr().out == ""
    assert main(["instance", "delete", "shop", *data]) == 2
    assert "is not found: 'shop'" in capsys.readouterr().err


def test_a_revoked_key_is_gone_from_the_keys_file(tmp_path, capsys):
    keys, _ = load_access_keys(tmp_path, environ={})
    (key_id,) = keys.secrets
    assert main(["keys", "revoke", key_id, "--data", str(tmp_path)]) == 0
    assert keys.get(key_id) is None
    assert main(["keys", "revoke", key_id, "--data", str(tmp_path)]) == 2
    assert f"no access key {key_id}" in capsys.readouterr().err


def test_a_missing_data_directory_is_one_line(tmp_path, capsys):
    for command in (["instance", "list"], ["instance", "show", "shop"], ["keys", "list"]):
        assert main([*command, "--data", str(tmp_path / "nowhere")]) == 2
        assert capsys.readouterr().err.startswith(f"lookalike: no data directory at {tmp_path / 'nowhere'}")
    assert not (tmp_path / "nowhere").exists()


def test_a_data_directory_another_process_holds_is_one_line(tmp_path, capsys):
    main(["instance", "create", "shop", "--data", str(tmp_path)])
    holder = open_store(None, tmp_path / "store")  # as a server on it would (here: in this process)
    try:
        assert main(["instance", "show", "shop", "--data", str(tmp_path)]) == 2
        (line,) = capsys.readouterr().err.splitlines()
        assert "is in use by another store" in line
    finally:
        holder.close()
