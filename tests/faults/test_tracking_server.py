"""Sweeps against a real `mlflow server` on loopback in normal use (outages: ..._outage.py)."""

import json
import re
import signal
import urllib.request

import pytest
from mlflow import MlflowClient
from support import assert_exactly_once, children, free_port, parents, run_script
from sweep_process import SweepProcess

from trainer import contract

pytestmark = pytest.mark.slow  # a real mlflow server, sweeps launched against it

GRID = [
    "task=digits_mlp",
    "optimizer=momentum",
    "optimizer.lr=0.01,0.03,0.1,0.3",
    "optimizer.momentum=0,0.9",
    # About a second a trial: the tests act after two trials, well before the eighth.
    "trainer.steps=3000",
    "trainer.eval_every=100",
    "sweep.trials_per_task=1",
    "ray.num_cpus=2",
]


def test_interrupt_then_rerun_completes_exactly_once(tmp_path, server):
    args = [*GRID, f"tracking.uri={server.uri}", "tracking.experiment=interrupt"]
    sweep = SweepProcess(args, cwd=tmp_path)
    sweep.interrupt_after(2)
    assert "run the same command again" in sweep.output()
    client = MlflowClient(server.uri)
    [parent] = parents(client, "interrupt")
    assert client.get_run(parent.info.run_id).info.status == "KILLED"
    logged = len(children(client, parent.info.run_id, "interrupt"))
    assert 2 <= logged < 8

    done = run_script("sweep.py", *args, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{logged} already done" in done.stdout
    assert_exactly_once(client, parent.info.run_id, grid_size=8, experiment="interrupt")
    assert client.get_run(parent.info.run_id).info.status == "FINISHED"


def test_a_sweep_against_a_server_prints_no_mlflow_run_links(tmp_path, server):
    """MLflow prints "View run ... / View experiment ..." as each run ends against a server;
    in a sweep that is two lines per trial across the progress bar."""
    args = [*GRID[:3], "optimizer.momentum=0", "trainer.steps=50", *GRID[5:]]
    done = run_script(
        "sweep.py", *args, f"tracking.uri={server.uri}", "tracking.experiment=quiet", cwd=tmp_path
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "View run" not in done.stdout + done.stderr
    assert "View experiment" not in done.stdout + done.stderr
    client = MlflowClient(server.uri)
    [parent] = parents(client, "quiet")
    assert len(children(client, parent.info.run_id, "quiet")) == 4


def test_unreachable_server_is_refused_before_anything_starts(tmp_path):
    uri = f"http://127.0.0.1:{free_port()}"
    done = run_script("sweep.py", "sweep=quadratic", f"tracking.uri={uri}", cwd=tmp_path)
    assert done.returncode == 2
    [line] = done.stderr.strip().splitlines()
    assert line.startswith(f"error: tracking.uri={uri} is unreachable")
    assert list(tmp_path.iterdir()) == []


def test_the_printed_link_opens_the_parent_run_on_the_server(tmp_path, server):
    args = ["sweep=quadratic", "optimizer.lr=0.01,0.1", "optimizer.momentum=0.9"]
    args += ["trainer.steps=100", "ray.num_cpus=2", f"tracking.uri={server.uri}"]
    done = run_script("sweep.py", *args, "tracking.experiment=link", cwd=tmp_path, check=True)
    last = done.stdout.splitlines()[-1]
    found = re.fullmatch(
        r"open the parent run in MLflow: (\S+)/#/experiments/(\w+)/runs/(\w+)"
        r"\?workflowType=machine_learning",
        last,
    )
    assert found, last
    base, experiment_id, run_id = found.groups()
    assert base == server.uri
    # The link's target, through MLflow's REST API: the sweep's parent, with its two children.
    with urllib.request.urlopen(f"{base}/api/2.0/mlflow/runs/get?run_id={run_id}") as answer:
        run = json.load(answer)["run"]
    tags = {tag["key"]: tag["value"] for tag in run["data"]["tags"]}
    assert run["info"]["experiment_id"] == experiment_id and contract.SWEEP_ID in tags
    assert len(children(MlflowClient(server.uri), run_id, "link")) == 2


def test_a_second_driver_on_the_same_server_is_refused_and_the_first_finishes(tmp_path, server):
    args = [*GRID, f"tracking.uri={server.uri}", "tracking.experiment=two_drivers"]
    first = SweepProcess(args, cwd=tmp_path)
    first.wait_for_start()  # it holds the lease: from here on a second driver is refused
    # Stopped while the second driver starts, so that it is found running however short its
    # trials (its Ray workers train on), and continued once the second has exited.
    first.process.send_signal(signal.SIGSTOP)
    try:
        second = run_script("sweep.py", *args, cwd=tmp_path)
    finally:
        first.process.send_signal(signal.SIGCONT)
    assert second.returncode == 2, second.stdout + second.stderr
    lines = second.stderr.strip().splitlines()
    assert len(lines) == 1, second.stderr
    [line] = lines
    assert "another driver" in line and f":{first.process.pid}:" in line
    assert first.process.poll() is None
    assert first.wait() == 0, first.output()
    client = MlflowClient(server.uri)
    [parent] = parents(client, "two_drivers")
    assert_exactly_once(client, parent.info.run_id, grid_size=8, experiment="two_drivers")


def test_credentials_in_the_uri_are_masked_in_output_tags_and_params(tmp_path, server):
    secret_uri = server.uri.replace("http://", "http://someone:secretpw@")
    args = [
        "task=quadratic",
        "optimizer=sgd",
        "optimizer.lr=0.01,0.02",
        "trainer.steps=20",
        "ray.num_cpus=2",
        f"tracking.uri={secret_uri}",
        "tracking.experiment=secret",
    ]
    done = run_script("sweep.py", *args, cwd=tmp_path, check=True)
    assert "secretpw" not in done.stdout + done.stderr
    assert "someone:***@" in done.stdout
    client = MlflowClient(server.uri)
    [parent] = parents(client, "secret")
    runs = [client.get_run(parent.info.run_id), *children(client, parent.info.run_id, "secret")]
    for run in runs:
        recorded = {**run.data.tags, **run.data.params}
        assert not [key for key, value in recorded.items() if "secretpw" in value]
    assert "someone:***@" in runs[0].data.tags[contract.NOTE]
