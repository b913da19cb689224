"""The store contract (tests/helpers/store_contract.py) run against every store there is."""

import itertools
import time

import pytest
from mlflow import MlflowClient
from record_forms import TableForm
from store_contract import StoreContract, sweep  # noqa: F401 (sweep: the fixture)
from support import MlflowServer

from trainer.sweep.context import SweepContext
from trainer.sweep.record.open import open_store
from trainer.sweep.record.store_process import open_in_background

# One driver at a time opens each store (the second driver's test too, once the first holds it).
pytestmark = pytest.mark.usefixtures("one_driver")

EXPERIMENT = "contract"
_experiments = itertools.count()


def context(
    uri: str | None, grid, experiment: str = EXPERIMENT, children: bool = True
) -> SweepContext:
    """A sweep's context as the driver builds it, for a store at `uri` (None: tracking=none),
    with `tracking.children`."""
    session = {
        "sweep": {"name": "contract"},
        "tracking": {"experiment": experiment, "retry_seconds": 0.0, "children": children},
        "ray": {},
    }
    return SweepContext(session, grid, uri, time.perf_counter())


class Opener:
    """Opens the sweep's store at `uri` as the driver does, in process or in a child."""

    def __init__(
        self, uri: str | None, in_child: bool, experiment: str = EXPERIMENT, children: bool = True
    ):
        self.uri, self.in_child, self.experiment = uri, in_child, experiment
        self.children = children

    def open(self, grid):
        sweep_context = context(self.uri, grid, self.experiment, self.children)
        opening = None
        if self.in_child and self.uri is not None:
            opening = open_in_background(sweep_context)
        return open_store(sweep_context, opening)

    def client(self) -> MlflowClient | None:
        return None if self.uri is None else MlflowClient(self.uri)


class TestMlflowInProcess(StoreContract):
    """MLflow over sqlite, opened in the driver's process (where processes cannot fork)."""

    @pytest.fixture
    def opener(self, copy_store, tmp_path, monkeypatch):
        monkeypatch.chdir(tmp_path)
        return Opener(copy_store(tmp_path), in_child=False)


@pytest.mark.slow  # a store process forked for each test
class TestMlflowInChildProcess(StoreContract):
    """MLflow over sqlite in a forked child process: the default for every tracked sweep."""

    @pytest.fixture
    def opener(self, copy_store, tmp_path, monkeypatch):
        monkeypatch.chdir(tmp_path)
        return Opener(copy_store(tmp_path), in_child=True)


class TestTableInProcess(TableForm, StoreContract):
    """tracking.children=false over sqlite, in the driver's process: the parent run alone, its
    trials the parts of a table artifact."""

    @pytest.fixture
    def opener(self, copy_store, tmp_path, monkeypatch):
        monkeypatch.chdir(tmp_path)
        return Opener(copy_store(tmp_path), in_child=False, children=False)


@pytest.mark.slow  # a store process forked for each test
class TestTableInChildProcess(TableForm, StoreContract):
    """tracking.children=false over sqlite in the store process, as a sweep runs it."""

    @pytest.fixture
    def opener(self, copy_store, tmp_path, monkeypatch):
        monkeypatch.chdir(tmp_path)
        return Opener(copy_store(tmp_path), in_child=True, children=False)


class TestNoStore(StoreContract):
    """tracking=none: the store that records nothing, and writes no file."""

    records = False

    @pytest.fixture
    def opener(self, tmp_path, monkeypatch):
        monkeypatch.chdir(tmp_path)
        yield Opener(None, in_child=False)
        assert list(tmp_path.iterdir()) == []


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    server = MlflowServer(tmp_path_factory.mktemp("server")).start()
    yield server
    server.stop()


@pytest.mark.slow
class TestMlflowServer(StoreContract):
    """A real `mlflow server` on loopback (sqlite behind it, artifacts proxied), its client in
    a child process; each test logs to an experiment of its own."""

    artifacts = "mlflow-artifacts:"

    @pytest.fixture
    def opener(self, server, tmp_path, monkeypatch):
        monkeypatch.chdir(tmp_path)  # a server's spool is in the working directory
        return Opener(server.uri, in_child=True, experiment=f"contract-{next(_experiments)}")


@pytest.mark.slow
class TestTableOnServer(TableForm, StoreContract):
    """tracking.children=false through a real `mlflow server`: the parts proxied as artifacts."""

    artifacts = "mlflow-artifacts:"

    @pytest.fixture
    def opener(self, server, tmp_path, monkeypatch):
        monkeypatch.chdir(tmp_path)
        experiment = f"table-{next(_experiments)}"
        return Opener(server.uri, in_child=True, experiment=experiment, children=False)


@pytest.mark.slow
class TestPostgres(StoreContract):
    """MLflow straight on PostgreSQL (tracking.uri=postgresql://...), in the store process; each
    test a fresh database, a copy of the migrated one. Artifacts: MLflow's default for a
    database, ./mlruns of the working directory, as a path."""

    artifacts = "/"

    @pytest.fixture
    def opener(self, postgres, tmp_path, monkeypatch):
        monkeypatch.chdir(tmp_path)  # MLflow's artifacts (./mlruns) and the spool land here
        return Opener(postgres.database(), in_child=True)


@pytest.mark.slow
class TestMlflowServerOnPostgres(StoreContract):
    """The same suite through a real `mlflow server` backed by PostgreSQL, its artifacts proxied."""

    artifacts = "mlflow-artifacts:"

    @pytest.fixture
    def opener(self, postgres_server, tmp_path, monkeypatch):
        monkeypatch.chdir(tmp_path)
        yield Opener(postgres_server.uri, in_child=True, experiment=f"pg-{next(_experiments)}")
        assert not {"mlruns", "mlartifacts", "mlflow.db"} & {p.name for p in tmp_path.iterdir()}
