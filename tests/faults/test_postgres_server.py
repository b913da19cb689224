"""Sweeps through an `mlflow server` on PostgreSQL with proxied artifacts: nothing beside the
driver, and nothing lost or doubled when PostgreSQL or the server goes away mid-sweep."""

import time

import pytest
from mlflow import MlflowClient
from support import MlflowServer, SweepProcess, assert_exactly_once, parents, run_script

from trainer import contract

pytestmark = pytest.mark.slow

# About a second a trial: the faults land after two trials, well before the eighth.
GRID = [
    "task=digits_mlp",
    "optimizer=momentum",
    "optimizer.lr=0.01,0.03,0.1,0.3",
    "optimizer.momentum=0,0.9",
    "trainer.steps=3000",
    "trainer.eval_every=1000",
    "sweep.trials_per_task=1",
    "ray.num_cpus=2",
]
LOCAL_STORES = {"mlruns", "mlartifacts", "mlflow.db"}
OUTAGE_SECONDS = 10


@pytest.fixture(scope="module")
def server(postgres, tmp_path_factory):
    """One server for the module on a database of its own; each test its own experiment."""
    server = MlflowServer(tmp_path_factory.mktemp("server"), backend=postgres.database()).start()
    yield server
    server.stop()


def finished_once_with_files(server: MlflowServer, experiment: str, grid_size: int) -> list:
    """Every trial once, FINISHED, its curve in full, its files downloadable from the server."""
    client = MlflowClient(server.uri)
    [parent] = parents(client, experiment)
    runs = assert_exactly_once(client, parent.info.run_id, grid_size, experiment)
    assert client.get_run(parent.info.run_id).info.status == "FINISHED"
    for run in runs:
        assert run.info.artifact_uri.startswith("mlflow-artifacts:")
        files = {a.path for a in client.list_artifacts(run.info.run_id)}
        assert {contract.CONFIG_FILE, contract.TRAIN_LOSS_FILE} <= files
    return runs


def test_a_sweep_through_the_server_records_all_and_writes_nothing_beside_the_driver(
    server, tmp_path
):
    args = ["sweep=quadratic", "optimizer.lr=0.01,0.03", "optimizer.momentum=0,0.9"]
    args += ["trainer.steps=300", "ray.num_cpus=2", f"tracking.uri={server.uri}"]
    run_script("sweep.py", *args, "tracking.experiment=plain", cwd=tmp_path, check=True)
    runs = finished_once_with_files(server, "plain", grid_size=4)
    client = MlflowClient(server.uri)
    [parent] = parents(client, "plain")
    downloads = tmp_path.parent / f"{tmp_path.name}-downloads"
    for run_id in [parent.info.run_id, *(run.info.run_id for run in runs)]:
        for artifact in client.list_artifacts(run_id):
            path = client.download_artifacts(run_id, artifact.path, str(downloads))
            assert open(path, "rb").read(1), artifact.path  # through the server, not empty
        assert len(client.get_metric_history(run_id, contract.TRAIN_LOSS)) in (0, 300)
    assert not LOCAL_STORES & {p.name for p in tmp_path.rglob("*")}


def test_postgresql_stopped_for_10_s_mid_sweep_loses_nothing_and_doubles_nothing(
    postgres, server, tmp_path
):
    args = [*GRID, f"tracking.uri={server.uri}", "tracking.experiment=pg_down"]
    sweep = SweepProcess(args, cwd=tmp_path)
    sweep.wait_for(trials=2)
    postgres.stop()
    stopped_at = sweep.trials_done()
    time.sleep(OUTAGE_SECONDS)
    postgres.cluster.start()
    assert sweep.wait() == 0, sweep.output()
    assert stopped_at < 8
    finished_once_with_files(server, "pg_down", grid_size=8)
    [parent] = parents(MlflowClient(server.uri), "pg_down")
    # The trials trained meanwhile waited for PostgreSQL: their writes were retried, not lost.
    assert parent.data.metrics[contract.LOGGING_S] > OUTAGE_SECONDS / 2
    assert not LOCAL_STORES & {p.name for p in tmp_path.iterdir()}


def test_the_server_killed_and_restarted_mid_sweep_loses_nothing_and_doubles_nothing(
    server, tmp_path
):
    args = [*GRID, f"tracking.uri={server.uri}", "tracking.experiment=killed"]
    sweep = SweepProcess(args, cwd=tmp_path)
    sweep.wait_for(trials=2)
    server.stop()  # SIGKILL, mid-request or not
    assert sweep.process.poll() is None
    server.start()  # the same port and database, a new process
    assert sweep.wait() == 0, sweep.output()
    finished_once_with_files(server, "killed", grid_size=8)
