"""A data directory records the model that made its vectors; a server with another model refuses it, unless
the packaged model was fine-tuned from that one."""

from __future__ import annotations

import json
from importlib import resources

import pytest

from lookalike.app import build_components
from lookalike.cli import main
from lookalike.config import Settings
from lookalike.vision.fingerprint import (
    MODEL_MANIFEST,
    RECORD_FILE,
    Fingerprint,
    check_or_record,
    image_model_sha256,
    kin,
    stored_pooling,
)

MANIFEST = json.loads(resources.files("lookalike.vision").joinpath(MODEL_MANIFEST).read_text())
TUNED_FROM = MANIFEST["fine_tuned"]["from_onnx_sha256"]  # the model the packaged one was fine-tuned from


def test_the_first_start_records_the_model_and_the_next_accepts_it(tmp_path):
    build_components(Settings(data_dir=tmp_path)).close()
    recorded = json.loads((tmp_path / RECORD_FILE).read_text())
    assert recorded == {
        "image_model_sha256": image_model_sha256(None),
        "vector_size": 1280,
        "descriptors": {"vector": "rmac-gem3"},
    }
    build_components(Settings(data_dir=tmp_path)).close()  # the same model: accepted


def test_another_model_is_refused_before_anything_is_opened(tmp_path, capsys, monkeypatch):
    other = Fingerprint("0" * 64, 512, {"local": "v1"})
    check_or_record(tmp_path, other)
    with pytest.raises(ValueError, match="vectors made two ways cannot be compared"):
        build_components(Settings(data_dir=tmp_path))
    assert not (tmp_path / "store").exists()
    monkeypatch.setenv("LOOKALIKE_ACCESS_KEY_ID", "id")
    monkeypatch.setenv("LOOKALIKE_ACCESS_KEY_SECRET", "secret")
    assert main(["serve", "--data", str(tmp_path), "--port", "1"]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert "made by image model sha256 000000000000… (512-dimensional), local v1" in line
    assert "--image-model" in line


def test_a_descriptor_the_vision_adds_is_part_of_the_record(tmp_path):
    check_or_record(tmp_path, Fingerprint("a" * 64, 1280))
    with pytest.raises(ValueError):
        check_or_record(tmp_path, Fingerprint("a" * 64, 1280, {"local": "v1"}))


def test_a_record_made_before_vectors_had_versions_is_of_the_first_version_and_keeps_it(tmp_path):
    packaged = image_model_sha256(None)
    legacy = {"image_model_sha256": packaged, "vector_size": 1280}
    (tmp_path / RECORD_FILE).write_text(json.dumps(legacy))
    components = build_components(Settings(data_dir=tmp_path))  # features made them: accepted
    try:
        assert components.service.vision.embedder.pooling == "features"  # queries are pooled their way
    finally:
        components.close()
    assert json.loads((tmp_path / RECORD_FILE).read_text()) == legacy  # the record is left as it was


def test_a_directory_with_instances_but_no_record_keeps_the_models_own_features(tmp_path):
    components = build_components(Settings(data_dir=tmp_path))
    components.instances.create("shop")
    components.close()
    (tmp_path / RECORD_FILE).unlink()  # as a data directory made before records were kept
    assert stored_pooling(tmp_path, has_instances=True) == "features"
    build_components(Settings(data_dir=tmp_path)).close()
    assert json.loads((tmp_path / RECORD_FILE).read_text())["descriptors"] == {"vector": "features"}
    assert stored_pooling(tmp_path / "new", has_instances=False) is None


def test_vectors_made_another_way_from_the_same_model_are_refused_saying_so(tmp_path):
    made_before = Fingerprint(image_model_sha256(None), 1280, {"vector": "whitened-v9"})
    check_or_record(tmp_path, made_before)
    with pytest.raises(ValueError, match="Run the version of Lookalike that made them") as refused:
        build_components(Settings(data_dir=tmp_path))
    assert "vector whitened-v9" in str(refused.value) and "vector rmac-gem3" in str(refused.value)
    assert "add the pictures again" in str(refused.value)


def test_the_packaged_model_says_which_model_it_was_fine_tuned_from():
    assert image_model_sha256(None) != TUNED_FROM
    assert kin(TUNED_FROM, image_model_sha256(None)) and kin(image_model_sha256(None), TUNED_FROM)
    assert not kin(TUNED_FROM, "0" * 64) and not kin("0" * 64, image_model_sha256(None))


def test_a_directory_the_model_it_was_tuned_from_made_keeps_working_its_record_as_it_was(tmp_path):
    """Its training held a catalog shot's vector where the earlier model put it: the stored vectors are
    searched as they are, and a server of the earlier model could open the directory again."""
    earlier = {"image_model_sha256": TUNED_FROM, "vector_size": 1280, "descriptors": {"vector": "rmac-gem3"}}
    (tmp_path / RECORD_FILE).write_text(json.dumps(earlier))
    build_components(Settings(data_dir=tmp_path)).close()
    assert json.loads((tmp_path / RECORD_FILE).read_text()) == earlier


def test_kin_vectors_made_another_way_are_still_refused(tmp_path):
    check_or_record(tmp_path, Fingerprint(TUNED_FROM, 1280, {"vector": "whitened-v9"}))
    with pytest.raises(ValueError, match="Run the version of Lookalike that made them"):
        build_components(Settings(data_dir=tmp_path))
