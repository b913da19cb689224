"""Every Ray the tests start, and every sweep they run, binds 127.0.0.1 only (see ray_setup.py);
`postgres`: the session's throwaway PostgreSQL (tests/helpers/postgres.py), started when first
asked for."""

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
    server = helper.TestPostgres()
    try:
        yield server.start().migrate()
    finally:
        server.remove()
