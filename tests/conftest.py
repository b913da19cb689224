"""Session setup: a local Ray binds 127.0.0.1 only; migrated stores; a PostgreSQL on demand.

Every Ray the tests start, and every sweep they run, binds 127.0.0.1 only (see ray_setup.py).
MLflow migrates a new sqlite store through its whole schema history (seconds each time): a store
is migrated once per session (per xdist worker) and tests that need an empty store get a copy
of that file (`sqlite_store`, `copy_store`), the same tables an empty store of theirs would have.
`one_driver` shortens the lease's deliberate pause for tests where one driver opens a store.
`postgres` is the session's throwaway PostgreSQL (tests/helpers/postgres.py), `postgres_server`
an mlflow server on it; each starts when a test first asks for it.
"""

import os
import shutil
import sqlite3
from pathlib import Path

import pytest
from hard_timeout import (  # noqa: F401 (hooks)
    pytest_runtest_protocol,
    pytest_runtest_setup,
    pytest_xdist_make_scheduler,
)
from support import sqlite_uri

from trainer.sweep.run.ray_setup import LOOPBACK_RAY

os.environ[LOOPBACK_RAY] = "0"


@pytest.fixture(scope="session")
def mlflow_template(tmp_path_factory) -> Path:
    """An empty MLflow sqlite store, created and migrated once for the session."""
    from mlflow import MlflowClient

    folder = tmp_path_factory.mktemp("mlflow-template")
    MlflowClient(sqlite_uri(folder)).search_experiments()
    return folder / "mlflow.db"


@pytest.fixture(scope="session")
def copy_store(mlflow_template):
    """`copy_store(folder)`: the template copied to folder/mlflow.db (or `name`; a file copy,
    no migration); its URI. The Default experiment's artifact location is folder/mlruns/0, as
    if a process working in `folder` had created the store."""

    def copy(folder, name: str = "mlflow.db") -> str:
        target = Path(folder) / name
        assert not target.exists(), target
        shutil.copyfile(mlflow_template, target)
        with sqlite3.connect(target) as connection:
            connection.execute(
                "UPDATE experiments SET artifact_location = ? WHERE experiment_id = 0",
                (str(Path(folder) / "mlruns" / "0"),),
            )
        connection.close()
        return f"sqlite:///{target}"

    return copy


@pytest.fixture
def sqlite_store(copy_store, tmp_path) -> str:
    """An empty store at tmp_path/mlflow.db (`sqlite_uri(tmp_path)`), copied: its URI."""
    return copy_store(tmp_path)


@pytest.fixture
def one_driver(monkeypatch):
    """For a test in which one driver at a time opens a sweep's store in this process (or in a
    store process forked from it): the lease's settle, the pause between writing the lease and
    reading it back so that of two drivers starting at once the later write wins, cut from
    0.5 s to 0.05 s. No second driver races these; the tests of two drivers launched as
    scripts (faults/test_lease.py, test_tracking_server.py) keep the real pause."""
    from trainer.sweep.record import lease

    monkeypatch.setattr(lease, "SETTLE_SECONDS", 0.05)


@pytest.fixture(scope="session")
def postgres():
    """A PostgreSQL cluster for the session, MLflow's schema migrated once into the template
    of each test's database; stopped by its own pid at the end."""
    import postgres as helper

    reason = helper.missing()
    if reason:  # CI installs PostgreSQL (.ci/run): there, a missing one is a failure
        (pytest.fail if os.environ.get("CI") else pytest.skip)(reason)
    server = helper.ThrowawayPostgres()
    try:
        yield server.start().migrate()
    finally:
        server.remove()


@pytest.fixture(scope="session")
def postgres_server(postgres, tmp_path_factory):
    """One `mlflow server` on a database of the session's PostgreSQL, artifacts proxied
    (--artifacts-destination, no --default-artifact-root); each test logs to an experiment of
    its own. A test may stop and start it again on the same port and database."""
    from support import MlflowServer

    folder = tmp_path_factory.mktemp("postgres-server")
    server = MlflowServer(folder, backend=postgres.database()).start()
    yield server
    server.stop()


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups
def pytest_collection_modifyitems(items):
    """The modules with slow tests first, each module's tests in their order: pytest-xdist hands
    them out in this order (--no-loadscope-reorder, pyproject.toml), so the long ones start
    early and the many quick ones fill the workers in at the end. (xdist's own order, most tests
    first, left the long modules, which have few tests, for last.) A module's slow tests are one
    xdist group (--dist loadgroup; their ids end in @ and the module's name): they run on one
    worker, which sets up its module's servers and clusters once; every other test goes to
    whichever worker is free."""
    slow = {item.nodeid.split("::")[0] for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.nodeid.split("::")[0] not in slow)
    for item in items:
        if item.get_closest_marker("slow"):
            module = item.nodeid.split("::")[0].removeprefix("tests/").removesuffix(".py")
            item.add_marker(pytest.mark.xdist_group(module))
