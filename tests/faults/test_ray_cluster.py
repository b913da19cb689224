"""A two-node Ray cluster on this machine (1 CPU each): trials on both nodes, a node lost."""

import csv

import pytest
from mlflow import MlflowClient
from ray.cluster_utils import Cluster
from support import assert_exactly_once, free_port, parents, run_script, sqlite_uri
from sweep_process import SweepProcess

from trainer import contract

pytestmark = pytest.mark.slow  # a two-node Ray cluster, sweeps launched against it

GRID = [
    "sweep=quadratic",
    "optimizer.lr=0.005,0.01,0.02,0.03",
    "optimizer.momentum=0,0.5,0.9",
    "trainer.steps=300",
    "sweep.trials_per_task=1",
]


@pytest.fixture(scope="module")
def two_nodes():
    """Two nodes on loopback, started once for the module (each sweep attaches as a new job);
    tests/conftest.py makes Ray (and the sweep) use 127.0.0.1."""
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    nodes = {"worker": cluster.add_node(num_cpus=1)}
    cluster.wait_for_nodes()
    yield cluster, nodes
    cluster.shutdown()


@pytest.fixture
def cluster(two_nodes):
    """The module's cluster and its worker node; a test that removed the worker leaves the
    tests after it a new one, so each test starts on two nodes."""
    cluster, nodes = two_nodes
    yield cluster, nodes["worker"]
    if nodes["worker"] not in cluster.worker_nodes:
        nodes["worker"] = cluster.add_node(num_cpus=1)
        cluster.wait_for_nodes()


@pytest.mark.usefixtures("sqlite_store")
def test_trials_run_on_both_nodes_and_each_records_its_node(tmp_path, cluster):
    cluster, worker = cluster
    # Trials long enough (about 1 s each) that the first node cannot take all twelve before the
    # second node's worker has started on one, however loaded the machine: Ray hands queued
    # tasks to any worker already leased, so a node whose worker starts late may get none.
    run_script(
        "sweep.py",
        *GRID[:-2],
        "trainer.steps=30000",
        "sweep.trials_per_task=1",
        f"ray.address={cluster.address}",
        f"tracking.uri={sqlite_uri(tmp_path)}",
        cwd=tmp_path,
        check=True,
    )
    client = MlflowClient(sqlite_uri(tmp_path))
    [parent] = parents(client)
    runs = assert_exactly_once(client, parent.info.run_id, grid_size=12)
    nodes = {run.data.tags[contract.NODE] for run in runs}
    assert nodes == {cluster.head_node.node_id, worker.node_id}
    path = client.download_artifacts(parent.info.run_id, contract.RESULTS_FILE, str(tmp_path))
    with open(path) as handle:
        assert {row["node"] for row in csv.DictReader(handle)} == nodes


@pytest.mark.usefixtures("sqlite_store")
def test_a_node_removed_mid_sweep_loses_nothing_and_doubles_nothing(tmp_path, cluster):
    cluster, worker = cluster
    slow = [*GRID[:-2], "trainer.steps=3000", "sweep.trials_per_task=1"]
    sweep = SweepProcess(
        [*slow, f"ray.address={cluster.address}", f"tracking.uri={sqlite_uri(tmp_path)}"],
        cwd=tmp_path,
    )
    sweep.wait_for(trials=1)
    cluster.remove_node(worker)
    assert sweep.wait() == 0, sweep.output()
    client = MlflowClient(sqlite_uri(tmp_path))
    [parent] = parents(client)
    assert_exactly_once(client, parent.info.run_id, grid_size=12)
    assert client.get_run(parent.info.run_id).info.status == "FINISHED"


@pytest.mark.usefixtures("sqlite_store")
def test_ray_address_in_the_environment_is_used_like_ray_address(tmp_path, cluster):
    cluster, worker = cluster
    grid = [*GRID[:1], "optimizer.lr=0.005,0.01", *GRID[2:]]
    env = {"RAY_ADDRESS": cluster.address}
    done = run_script(
        "sweep.py", *grid, f"tracking.uri={sqlite_uri(tmp_path)}", cwd=tmp_path, env=env
    )
    assert done.returncode == 0, done.stdout + done.stderr
    # The choice is printed, and the code is shipped as for ray.address=.
    assert f"ray: attached to {cluster.address} (RAY_ADDRESS); code shipped from " in done.stdout
    client = MlflowClient(sqlite_uri(tmp_path))
    [parent] = parents(client)
    runs = assert_exactly_once(client, parent.info.run_id, grid_size=6)
    assert {run.data.tags[contract.NODE] for run in runs} <= {
        cluster.head_node.node_id,
        worker.node_id,
    }


def test_a_ray_address_in_the_environment_with_nothing_there_is_named_in_one_line(tmp_path):
    env = {"RAY_ADDRESS": f"127.0.0.1:{free_port()}"}
    done = run_script("sweep.py", "sweep=quadratic", cwd=tmp_path, env=env)
    assert done.returncode == 2, done.stdout + done.stderr
    [line] = done.stderr.splitlines()
    assert line.startswith(f"error: RAY_ADDRESS={env['RAY_ADDRESS']}: nothing is listening")
    assert list(tmp_path.iterdir()) == []
