"""Preflight finds the cluster `ray.address=auto` would attach to as Ray does, and checks stores."""

import socket

import pytest

from trainer.config.errors import ConfigError
from trainer.config.preflight import check_address, check_store, running_cluster


@pytest.fixture
def listening():
    """A port on 127.0.0.1 where something listens, as a Ray head's GCS would."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        yield f"127.0.0.1:{server.getsockname()[1]}"


@pytest.fixture
def ray_tmp(tmp_path, monkeypatch):
    """Ray's temp directory, empty, and no RAY_ADDRESS: no cluster to find."""
    monkeypatch.setenv("RAY_TMPDIR", str(tmp_path))
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    return tmp_path


def test_auto_attaches_to_the_cluster_ray_start_wrote_down(ray_tmp, listening):
    (ray_tmp / "ray").mkdir()
    (ray_tmp / "ray" / "ray_current_cluster").write_text(f"{listening}\n")
    assert running_cluster() == (listening, str(ray_tmp / "ray" / "ray_current_cluster"))
    check_address("auto")


def test_ray_address_in_the_environment_comes_first(ray_tmp, listening, monkeypatch):
    monkeypatch.setenv("RAY_ADDRESS", listening)
    assert running_cluster() == (listening, "RAY_ADDRESS")
    check_address("auto")


def test_auto_with_no_cluster_is_one_line_saying_where_it_looked(ray_tmp):
    with pytest.raises(ConfigError) as raised:
        check_address("auto")
    message = str(raised.value)
    assert message.startswith("ray.address=auto: no running Ray cluster to attach to")
    assert str(ray_tmp / "ray" / "ray_current_cluster") in message and "\n" not in message


def test_auto_with_a_stale_cluster_file_names_the_file_and_the_address(ray_tmp):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        stale = f"127.0.0.1:{closed.getsockname()[1]}"
    (ray_tmp / "ray").mkdir()
    (ray_tmp / "ray" / "ray_current_cluster").write_text(stale)
    with pytest.raises(ConfigError, match=f"ray_current_cluster says {stale}.*nothing is listen"):
        check_address("auto")


def test_a_local_ray_and_a_live_address_pass(listening):
    check_address("")
    check_address(listening)


def test_a_sqlite_file_that_is_an_empty_file_or_a_database_passes(tmp_path):
    (tmp_path / "empty.db").touch()
    check_store(f"sqlite:///{tmp_path}/empty.db")
    check_store(f"sqlite:///{tmp_path}/new.db")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.db"]
