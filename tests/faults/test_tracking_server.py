"""Sweeps against a real `mlflow server` on loopback: normal use, and the server going away."""

import signal

import pytest
from mlflow import MlflowClient
from support import (
    MlflowServer,
    SweepProcess,
    assert_exactly_once,
    children,
    free_port,
    parents,
    run_script,
)

from trainer import contract

GRID = [
    "task=digits_mlp",
    "optimizer=momentum",
    "optimizer.lr=0.01,0.03,0.1,0.3",
    "optimizer.momentum=0,0.9",
    "trainer.steps=300",
    "trainer.eval_every=100",
    "sweep.trials_per_task=1",
    "ray.num_cpus=2",
]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """One server for the module; each test logs to an experiment of its own."""
    server = MlflowServer(tmp_path_factory.mktemp("server")).start()
    yield server
    server.stop()


def test_interrupt_then_rerun_completes_exactly_once(tmp_path, server):
    args = [*GRID, f"tracking.uri={server.uri}", "tracking.experiment=interrupt"]
    sweep = SweepProcess(args, cwd=tmp_path)
    sweep.wait_for(trials=2)
    sweep.process.send_signal(signal.SIGINT)
    assert sweep.wait() == 130, sweep.output()
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


def test_server_lost_mid_sweep_spools_results_and_the_rerun_logs_them(tmp_path, server):
    args = [*GRID, f"tracking.uri={server.uri}", "tracking.experiment=lost"]
    sweep = SweepProcess(args, cwd=tmp_path)
    sweep.wait_for(trials=2)
    server.stop()
    code = sweep.wait()
    output = sweep.output()
    spool = list((tmp_path / ".gradsweep-spool").glob("*.jsonl"))
    assert code == 1, output
    assert len(spool) == 1 and spool[0].read_text().strip()
    assert str(spool[0]) in output and "Run the same command again" in output

    # The same server comes back on the same port and store: the rerun logs what was kept.
    server.start()
    done = run_script("sweep.py", *args, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    client = MlflowClient(server.uri)
    [parent] = parents(client, "lost")
    runs = assert_exactly_once(client, parent.info.run_id, grid_size=8, experiment="lost")
    assert not spool[0].exists()
    parent = client.get_run(parent.info.run_id)
    assert parent.info.status == "FINISHED" and parent.data.metrics[contract.TRIALS] == 8
    # Artifacts went through the server, not to a local path of this process.
    files = {a.path for a in client.list_artifacts(parent.info.run_id)}
    assert {contract.HEATMAP_FILE, contract.RESULTS_FILE} <= files
    assert contract.TRAIN_LOSS_FILE in {a.path for a in client.list_artifacts(runs[0].info.run_id)}


def test_unreachable_server_is_refused_before_anything_starts(tmp_path):
    uri = f"http://127.0.0.1:{free_port()}"
    done = run_script("sweep.py", "sweep=quadratic", f"tracking.uri={uri}", cwd=tmp_path)
    assert done.returncode == 2
    [line] = done.stderr.strip().splitlines()
    assert line.startswith(f"error: tracking.uri={uri} is unreachable")
    assert list(tmp_path.iterdir()) == []
