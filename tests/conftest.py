"""Session setup: a local Ray binds 127.0.0.1 only; a PostgreSQL and a server on it, on demand.

Every Ray the tests start, and every sweep they run, binds 127.0.0.1 only (see ray_setup.py).
`postgres` is the session's throwaway PostgreSQL (tests/helpers/postgres.py), `postgres_server`
an mlflow server on it; each starts when a test first asks for it.
"""

import os

import pytest

from trainer.sweep.run.ray_setup import LOOPBACK_RAY

os.environ[LOOPBACK_RAY] = "0"


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
