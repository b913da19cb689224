"""A Ray worker killed with SIGKILL in the middle of a trial: retried, logged exactly once."""

import os
import signal
import subprocess
import time

import pytest
from mlflow import MlflowClient
from support import assert_exactly_once, parents, sqlite_uri
from sweep_process import SweepProcess

from trainer.training.result import FAILED

pytestmark = pytest.mark.slow  # scripts/sweep.py on Ray, a worker killed


def busy_workers(sweep_pid: int) -> list[int]:
    """Ray titles a worker process `ray::run_trials` while it runs that task; those of the
    sweep's own Ray, which it started (its descendants), not of another Ray on this machine."""
    listing = subprocess.run(
        ["ps", "-eo", "pid=,ppid=,args="], capture_output=True, text=True
    ).stdout
    rows = [line.split(None, 2) for line in listing.splitlines() if line.strip()]
    parent = {int(row[0]): int(row[1]) for row in rows}

    def descends(pid: int) -> bool:
        while pid > 1:
            pid = parent.get(pid, 0)
            if pid == sweep_pid:
                return True
        return False

    return [
        int(pid)
        for pid, _, args in (row for row in rows if len(row) == 3)
        if "ray::run_trials" in args and "IDLE" not in args and descends(int(pid))
    ]


@pytest.mark.usefixtures("sqlite_store")
def test_worker_killed_mid_trial_is_retried_and_logged_exactly_once(tmp_path):
    grid = [
        "task=digits_mlp",
        "optimizer=momentum",
        "optimizer.lr=0.01,0.1",
        "optimizer.momentum=0,0.5,0.9",
        "trainer.steps=4000",  # about 0.5 s: the kill lands mid-trial
        "sweep.trials_per_task=1",
        "ray.num_cpus=2",
        f"tracking.uri={sqlite_uri(tmp_path)}",
    ]
    sweep = SweepProcess(grid, cwd=tmp_path)
    deadline = time.monotonic() + 180
    while not (victims := busy_workers(sweep.process.pid)):
        assert sweep.process.poll() is None and time.monotonic() < deadline, sweep.output()
        time.sleep(0.05)
    time.sleep(0.2)  # into the trial, past its setup
    os.kill(victims[0], signal.SIGKILL)
    assert sweep.wait() == 0, sweep.output()
    client = MlflowClient(sqlite_uri(tmp_path))
    [parent] = parents(client)
    assert_exactly_once(client, parent.info.run_id, grid_size=6)
    assert client.get_run(parent.info.run_id).data.metrics[FAILED] == 0
