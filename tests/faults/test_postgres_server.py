"""A server on PostgreSQL going away mid-sweep: nothing lost, nothing doubled, nothing local.

The `mlflow server` proxies artifacts; PostgreSQL behind it, or the server itself, is taken
away mid-sweep and brought back.
"""

import time

import pytest
from mlflow import MlflowClient
from support import MlflowServer, assert_exactly_once, parents
from sweep_process import SweepProcess

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


def recorded_once_through_the_server(server: MlflowServer, experiment: str, folder) -> None:
    """Every trial once, FINISHED, with its curve; every file of every run downloads through
    the server (mlflow-artifacts:); nothing was written beside the driver (in `folder`)."""
    client = MlflowClient(server.uri)
    [parent] = parents(client, experiment)
    runs = assert_exactly_once(client, parent.info.run_id, 8, experiment)
    assert client.get_run(parent.info.run_id).info.status == "FINISHED"
    downloads = folder.parent / f"{folder.name}-downloads"
    for run_id in [parent.info.run_id, *(run.info.run_id for run in runs)]:
        assert client.get_run(run_id).info.artifact_uri.startswith("mlflow-artifacts:")
        files = client.list_artifacts(run_id)
        assert files
        for artifact in files:
            path = client.download_artifacts(run_id, artifact.path, str(downloads))
            assert open(path, "rb").read(1), artifact.path
    for run in runs:
        files = {a.path for a in client.list_artifacts(run.info.run_id)}
        assert {contract.CONFIG_FILE, contract.TRAIN_LOSS_FILE} <= files
    assert not LOCAL_STORES & {path.name for path in folder.rglob("*")}


def test_postgresql_stopped_for_10_s_mid_sweep_loses_nothing_and_doubles_nothing(
    postgres, postgres_server, tmp_path
):
    server = postgres_server
    args = [*GRID, f"tracking.uri={server.uri}", "tracking.experiment=pg_down"]
    sweep = SweepProcess(args, cwd=tmp_path)
    sweep.wait_for(trials=2)
    postgres.stop()
    stopped_at = sweep.trials_done()
    time.sleep(OUTAGE_SECONDS)
    postgres.cluster.start()
    assert sweep.wait() == 0, sweep.output()
    assert stopped_at < 8
    recorded_once_through_the_server(server, "pg_down", tmp_path)
    [parent] = parents(MlflowClient(server.uri), "pg_down")
    # The trials trained meanwhile waited for PostgreSQL: their writes were retried, not lost.
    assert parent.data.metrics[contract.LOGGING_S] > OUTAGE_SECONDS / 2


def test_the_server_killed_and_restarted_mid_sweep_loses_nothing_and_doubles_nothing(
    postgres_server, tmp_path
):
    server = postgres_server
    args = [*GRID, f"tracking.uri={server.uri}", "tracking.experiment=killed"]
    sweep = SweepProcess(args, cwd=tmp_path)
    sweep.wait_for(trials=2)
    server.stop()  # SIGKILL, mid-request or not
    assert sweep.process.poll() is None
    server.start()  # the same port and database, a new process
    assert sweep.wait() == 0, sweep.output()
    recorded_once_through_the_server(server, "killed", tmp_path)
