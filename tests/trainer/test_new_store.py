"""A new sqlite store is a copy of an empty one migrated once: the store MLflow itself builds."""

import os
import re
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from mlflow import MlflowClient

from trainer.tracking.new_store import copy_into_place, seed, template_path
from trainer.tracking.run_record import open_store


@pytest.fixture(scope="module")
def module_cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("cache")


@pytest.fixture
def cache(module_cache, monkeypatch) -> Path:
    """The module's cache folder: the template is built in it once, by the first test."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(module_cache))
    return module_cache / "gradsweep"


def opened(folder: Path, monkeypatch) -> str:
    """MLflow opens folder/mlflow.db from `folder` (where a new store puts its Default
    experiment's artifacts); its URI."""
    folder.mkdir(exist_ok=True)
    monkeypatch.chdir(folder)
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    MlflowClient(uri).search_experiments()
    return uri


def clauses(sql: str | None) -> list[str] | None:
    """A CREATE statement's columns and constraints, in sorted order: MLflow's own builds
    differ in the order of a table's CHECK constraints from one process to the next."""
    return sql if sql is None else sorted(re.split(r",\s*\n\t", sql))


def contents(path: Path) -> tuple[list, dict]:
    """The schema, and every table's rows, of a sqlite file."""
    with closing(sqlite3.connect(path)) as connection:
        schema = [
            (kind, name, table, clauses(sql))
            for kind, name, table, sql in connection.execute(
                "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name"
            )
        ]
        tables = [name for kind, name, _, _ in schema if kind == "table"]
        rows = {t: sorted(map(repr, connection.execute(f"SELECT * FROM {t}"))) for t in tables}
    return schema, rows


@pytest.mark.usefixtures("cache")
def test_a_seeded_store_is_the_store_mlflow_builds(tmp_path, monkeypatch):
    built_uri = opened(tmp_path / "built", monkeypatch)  # MLflow's migrations
    seeded_uri = f"sqlite:///{tmp_path / 'seeded' / 'mlflow.db'}"
    (tmp_path / "seeded").mkdir()
    assert seed(seeded_uri)
    opened(tmp_path / "seeded", monkeypatch)

    built_schema, built_rows = contents(tmp_path / "built" / "mlflow.db")
    seeded_schema, seeded_rows = contents(tmp_path / "seeded" / "mlflow.db")
    assert seeded_schema == built_schema
    assert len(built_schema) > 50  # MLflow's whole schema, not an empty file
    experiments = built_rows.pop("experiments"), seeded_rows.pop("experiments")
    assert seeded_rows == built_rows  # the schema's version, its seeded rows (the workspace)
    for uri, folder in ((built_uri, "built"), (seeded_uri, "seeded")):
        [default] = MlflowClient(uri).search_experiments()
        assert (default.experiment_id, default.name) == ("0", "Default")
        assert default.artifact_location == str(tmp_path / folder / "mlruns" / "0")
        assert MlflowClient(uri).create_experiment("next") == "1"
    assert [len(rows) for rows in experiments] == [1, 1]


def test_the_template_is_built_once_and_copied_after(tmp_path, cache):
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir(), second.mkdir()
    assert seed(f"sqlite:///{first / 'mlflow.db'}")  # built here, or by an earlier test
    template = template_path()
    assert template.parent == cache and template.is_file()
    made = template.stat()
    assert seed(f"sqlite:///{second / 'mlflow.db'}")
    again = template.stat()
    assert (again.st_ino, again.st_mtime_ns) == (made.st_ino, made.st_mtime_ns)
    assert (second / "mlflow.db").read_bytes() == template.read_bytes()
    assert sorted(os.listdir(cache)) == [template.name]  # no scratch folder left behind
    with closing(sqlite3.connect(template)) as connection:
        assert connection.execute("SELECT COUNT(*) FROM experiments").fetchone() == (0,)


@pytest.mark.usefixtures("cache")
def test_a_store_that_exists_is_never_replaced(tmp_path):
    folder = tmp_path / "store"
    folder.mkdir()
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    client, experiment_id = open_store(uri, "kept")  # seeded: the template is built
    client.create_run(experiment_id)
    before = (folder / "mlflow.db").read_bytes()
    assert not seed(uri)
    # A store put there between the check and the copy: the copy leaves it, and no scratch file.
    assert not copy_into_place(template_path(), folder / "mlflow.db")
    assert (folder / "mlflow.db").read_bytes() == before
    assert [p.name for p in folder.iterdir()] == ["mlflow.db"]  # no scratch file left


def test_without_a_usable_cache_mlflow_builds_the_store_itself(tmp_path, monkeypatch):
    (tmp_path / "not-a-folder").write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "not-a-folder"))
    uri = f"sqlite:///{tmp_path / 'store' / 'mlflow.db'}"
    (tmp_path / "store").mkdir()
    assert not seed(uri)
    assert not (tmp_path / "store" / "mlflow.db").exists()
    client, experiment_id = open_store(uri, "built")
    assert client.get_experiment(experiment_id).name == "built"


@pytest.mark.usefixtures("cache")
@pytest.mark.parametrize("where", ["missing/mlflow.db", "mlflow.db?timeout=5"])
def test_nothing_is_seeded_in_a_missing_folder_or_for_a_uri_with_options(tmp_path, where):
    assert not seed(f"sqlite:///{tmp_path / where}")
    assert sorted(p.name for p in tmp_path.iterdir()) == []
