"""The sweep's way to its dashboards: MLflow's model-training view of the parent run, Ray's."""

import json
import re
import signal
import socket
import urllib.error
import urllib.request

import pytest
from support import sqlite_uri
from sweep_process import SweepProcess

from trainer import contract

pytestmark = pytest.mark.slow  # sweeps launched on Ray, MLflow's UI and Ray's dashboard served

SMALL = [
    "sweep=quadratic",
    "optimizer.lr=0.01,0.05",
    "optimizer.momentum=0,0.9",
    "trainer.steps=100",
    "ray.num_cpus=2",
]
# The link the sweep prints: the run page of MLflow's UI, in its model-training view.
LINK = r"(http://127\.0\.0\.1:(\d+))/#/experiments/(\w+)/runs/(\w+)\?workflowType=machine_learning"


def get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as answer:
        return answer.read()


def rest(base: str, path: str) -> dict:
    return json.loads(get(f"{base}/api/2.0/mlflow/{path}"))


@pytest.mark.usefixtures("sqlite_store")
def test_sweep_ui_serves_the_parent_run_behind_the_printed_link_until_ctrl_c(tmp_path):
    sweep = SweepProcess(
        [*SMALL, f"tracking.uri={sqlite_uri(tmp_path)}", "sweep.ui=true"], tmp_path
    )
    base, port, experiment_id, run_id = sweep.wait_for_text(r"serving .* " + LINK).groups()

    run = rest(base, f"runs/get?run_id={run_id}")["run"]
    tags = {tag["key"]: tag["value"] for tag in run["data"]["tags"]}
    assert run["info"]["experiment_id"] == experiment_id and contract.SWEEP_ID in tags
    experiment = rest(base, f"experiments/get?experiment_id={experiment_id}")["experiment"]
    kind = {tag["key"]: tag["value"] for tag in experiment["tags"]}[contract.EXPERIMENT_KIND]
    assert kind == contract.MODEL_TRAINING
    # The run's description draws the heatmap from the same server: the link in it works.
    picture = re.search(r"\]\((get-artifact[^)]*heatmap[^)]*)\)", tags[contract.NOTE]).group(1)
    assert get(f"{base}/{picture}").startswith(b"\x89PNG")

    sweep.process.send_signal(signal.SIGINT)
    assert sweep.wait(timeout=60) == 0, sweep.output()
    with socket.socket() as probe:  # the UI is gone with it
        assert probe.connect_ex(("127.0.0.1", int(port))) != 0


@pytest.mark.usefixtures("sqlite_store")
def test_without_sweep_ui_the_sweep_prints_the_command_and_the_link(tmp_path):
    sweep = SweepProcess([*SMALL, f"tracking.uri={sqlite_uri(tmp_path)}"], tmp_path)
    assert sweep.wait() == 0, sweep.output()
    last = sweep.output().splitlines()[-3:]
    assert last[:2] == [
        "serve the dashboard with:",
        f"  mlflow ui --backend-store-uri {sqlite_uri(tmp_path)}",
    ]
    assert re.fullmatch(r"then open the parent run: " + LINK, last[2])
    assert re.search(LINK, last[2]).group(2) == "5000"


@pytest.mark.usefixtures("sqlite_store")
def test_ray_dashboard_true_serves_rays_dashboard_on_loopback_while_the_sweep_runs(tmp_path):
    args = ["sweep=quadratic", "trainer.steps=2000", "ray.num_cpus=2", "ray.dashboard=true"]
    sweep = SweepProcess([*args, f"tracking.uri={sqlite_uri(tmp_path)}"], tmp_path)
    line = sweep.wait_for_text(r"ray dashboard: (http://127\.0\.0\.1:\d+)(.*)")
    url, hint = line.groups()
    assert b"<html" in get(url).lower()  # the page, which asks for Ray's token
    mode = json.loads(get(f"{url}/api/authentication_mode"))["authentication_mode"]
    assert ("ray get-auth-token" in hint) == (mode == "token")
    if mode == "token":  # and the data behind it stays closed without the token
        with pytest.raises(urllib.error.HTTPError, match="401"):
            get(f"{url}/api/version")
    sweep.process.send_signal(signal.SIGINT)
    assert sweep.wait() == 130, sweep.output()
