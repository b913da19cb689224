"""A throwaway PostgreSQL for the tests: one cluster a session, one migrated database a test.

Each test's database is a copy (CREATE DATABASE ... TEMPLATE) of one that MLflow migrated once.
"""

import importlib.util
import itertools
import shutil
import sys
import tempfile
from pathlib import Path

from support import REPO, free_port

MIGRATED = "migrated"  # MLflow's schema in place; every test's database is a copy of it


def _pg_cluster():
    """scripts/pg_cluster.py, the cluster `scripts/stack.py up` starts too."""
    if "pg_cluster" not in sys.modules:
        spec = importlib.util.spec_from_file_location("pg_cluster", REPO / "scripts/pg_cluster.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules["pg_cluster"] = module
        spec.loader.exec_module(module)
    return sys.modules["pg_cluster"]


def missing() -> str | None:
    """Why no cluster can be started here, or None."""
    if _pg_cluster().server_binaries() is None:
        return "PostgreSQL's server binaries are not installed (apt-get install postgresql)"
    if _pg_cluster().runs_as_root() and shutil.which("runuser") is None:
        return "running as root without runuser to start PostgreSQL as its own user"
    return None


class ThrowawayPostgres:
    """The session's cluster on 127.0.0.1 (its socket and data in a folder of its own, which
    the `postgres` user owns when the tests run as root): `database()` is a new copy of the
    migrated database; `stop()` and `start()` take the whole server away and back."""

    def __init__(self):
        # Not under pytest's temporary folders: they are private to the user running the tests,
        # and the server may run as another one.
        self.folder = Path(tempfile.mkdtemp(prefix="gradsweep-pg-"))
        self.cluster = _pg_cluster().PostgresCluster(self.folder, free_port(), quick=True)
        self._numbers = itertools.count()

    def start(self) -> "ThrowawayPostgres":
        self.cluster.init().start()
        return self

    def migrate(self) -> "ThrowawayPostgres":
        """The template: MLflow's schema migrated once, its connections closed (a template
        must have none while it is copied)."""
        from mlflow import MlflowClient

        uri = self.cluster.create_database(MIGRATED)
        client = MlflowClient(uri)
        client.search_experiments()
        client._tracking_client.store.engine.dispose()
        return self

    def database(self) -> str:
        """The URI of a new database with MLflow's schema in place."""
        return self.cluster.create_database(f"test_{next(self._numbers)}", template=MIGRATED)

    def url(self, database: str, host: str | None = None) -> str:
        return self.cluster.url(database, host)

    @property
    def port(self) -> int:
        return self.cluster.port

    def pid(self) -> int | None:
        return self.cluster.pid()

    def stop(self) -> None:
        self.cluster.stop()

    def remove(self) -> None:
        self.cluster.stop()
        shutil.rmtree(self.folder, ignore_errors=True)
