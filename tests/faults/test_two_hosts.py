"""Two hosts that share nothing but the code's folder, set up by the README's commands.

The README's "Scaling out" block as written: an `mlflow server` on PostgreSQL and Ray's head on
this machine, a second Ray node in its own network namespace (a veth pair) and mount namespace
(a fresh /tmp).
"""

import os
import subprocess
from pathlib import Path

import pytest
from hosts import SecondHost, namespaces_unavailable, stop_tree
from mlflow import MlflowClient
from scaling_out import ScalingOut
from support import assert_exactly_once, parents
from sweep_process import SweepProcess

from trainer import contract
from trainer.tracking.curve import from_npz

pytestmark = pytest.mark.slow

# Trials of a second or two, one a task: longer than the second host takes to start its first
# worker, even on a loaded machine, so the head does not train them all before it can (Ray
# reuses a free worker).
GRID = ["task=digits_mlp", "optimizer=momentum", "optimizer.lr=0.01,0.03,0.1,1"]
GRID += ["optimizer.momentum=0,0.9", "trainer.steps=6000", "trainer.eval_every=3000"]
GRID += ["sweep.trials_per_task=1"]
# About a second a trial: the second host goes after the first trial, well before the seventh.
LONG_GRID = ["task=digits_mlp", "optimizer=sgd", "optimizer.lr=0.01,0.02,0.03,0.05,0.07,0.1,0.15"]
LONG_GRID += ["trainer.steps=3000", "trainer.eval_every=3000"]
LONG_GRID += ["sweep.trials_per_task=1", "tracking.experiment=host_lost"]
LOCAL_STORES = {"mlruns", "mlartifacts", "mlflow.db"}


@pytest.fixture(scope="module")
def cluster(postgres, tmp_path_factory):
    reason = namespaces_unavailable()
    if reason:  # CI runs as root: there, not making the second host is a failure
        (pytest.fail if os.environ.get("CI") else pytest.skip)(f"no second host: {reason}")
    stack = ScalingOut(postgres, SecondHost().create(), tmp_path_factory.mktemp("two-hosts"))
    try:
        yield stack.up()
    finally:
        stack.down()


def local_stores(folder: Path) -> set[str]:
    return {path.name for path in folder.rglob("*") if path.name in LOCAL_STORES}


def test_the_readme_s_commands_sweep_on_two_hosts_recording_only_through_the_server(
    cluster, tmp_path
):
    # The server answers on the cluster address from the other host too.
    probe = f"import urllib.request; urllib.request.urlopen('{cluster.uri}/health', timeout=5)"
    cluster.host.run(["python3", "-c", probe])
    command = [*cluster.sweep, *GRID]
    done = subprocess.run(
        command, cwd=tmp_path, env=cluster.env, capture_output=True, text=True, timeout=240
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"ray: attached to {cluster.address} (ray.address)" in done.stdout
    client = MlflowClient(cluster.uri)
    [parent] = parents(client)
    runs = assert_exactly_once(client, parent.info.run_id, grid_size=8)
    addresses = {run.data.tags[contract.NODE_ADDRESS] for run in runs}
    assert addresses == {cluster.host.address, cluster.host.remote}
    assert len({run.data.tags[contract.NODE] for run in runs}) == 2
    for run in runs:  # metrics, tags, curves and files: all through the server
        assert run.info.artifact_uri.startswith("mlflow-artifacts:")
        path = client.download_artifacts(run.info.run_id, contract.TRAIN_LOSS_FILE, str(tmp_path))
        curve = from_npz(Path(path).read_bytes())
        os.remove(path)
        points = client.get_metric_history(run.info.run_id, contract.TRAIN_LOSS)
        assert points and all(curve[point.step] == point.value for point in points)
    # Nothing recorded locally, on either host: the other's /tmp is its own, seen through its node.
    other_tmp = Path(f"/proc/{cluster.worker.pid}/root/tmp")
    assert (other_tmp / "home").is_dir() and not local_stores(other_tmp)
    assert not local_stores(tmp_path)


def test_the_second_host_removed_mid_sweep_loses_nothing_and_its_trials_run_elsewhere(
    cluster, tmp_path
):
    sweep = SweepProcess([*cluster.sweep[2:], *LONG_GRID], cwd=tmp_path, env=cluster.env)
    sweep.wait_for(trials=1)
    stop_tree(cluster.worker)  # the host is gone: every process of its node at once
    assert sweep.wait() == 0, sweep.output()
    client = MlflowClient(cluster.uri)
    [parent] = parents(client, "host_lost")
    runs = assert_exactly_once(client, parent.info.run_id, grid_size=7, experiment="host_lost")
    assert cluster.host.address in {run.data.tags[contract.NODE_ADDRESS] for run in runs}
    assert client.get_run(parent.info.run_id).info.status == "FINISHED"
