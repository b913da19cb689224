"""The fault tests' `mlflow server`: one for each module that asks for it."""

import pytest
from support import MlflowServer


@pytest.fixture(scope="module")
def server(tmp_path_factory, copy_store):
    """One server for the module; each test logs to an experiment of its own. A test may stop
    it and start it again, on the same port and store."""
    folder = tmp_path_factory.mktemp("server")
    copy_store(folder, "server.db")  # the server's store: migrated once per session
    try:
        server = MlflowServer(folder).start()
    except AssertionError as error:
        if "exited" not in str(error):
            raise
        # A port free when picked can be taken before the server binds it (other tests, other
        # processes on the machine): once more, on another.
        server = MlflowServer(folder).start()
    yield server
    server.stop()
