"""A server's readiness, from the real store and data directory."""

from __future__ import annotations

from lookalike.app import build_components
from lookalike.config import Settings
from lookalike.service.status import Status


def test_ready_until_the_store_closes_or_the_data_directory_cannot_be_written(tmp_path):
    data = tmp_path / "data"
    components = build_components(Settings(data_dir=data))
    try:
        status = Status(components.instances, components.service.store, components.jobs, data)
        assert status.problem() is None
        components.instances.create("shop")
        assert list(status.images_per_instance()) == [("shop", 0)]
        assert status.job_lines() == []
        not_a_directory = tmp_path / "file"
        not_a_directory.write_text("")
        assert "cannot be written" in str(
            Status(status.instances, status.store, status.jobs, not_a_directory).problem()
        )
    finally:
        components.close()
    assert "the store does not answer" in str(status.problem())
