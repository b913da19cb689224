"""Sweeps against a real `mlflow server` on loopback that goes away, and comes back."""

import re
import signal

import pytest
from mlflow import MlflowClient
from support import (
    MlflowServer,
    assert_exactly_once,
    children,
    parents,
    run_script,
    store_with_trials,
)
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


def test_server_lost_mid_sweep_spools_results_and_the_rerun_logs_them(tmp_path, server):
    args = [*GRID, f"tracking.uri={server.uri}", "tracking.experiment=lost"]
    args.append("tracking.retry_seconds=2")  # spool soon: the server stays away
    # No retries of MLflow's own either: each try of the store away fails at once.
    sweep = SweepProcess(args, cwd=tmp_path, env={"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0"})
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


# Longer digits trials (about 2 s each): trials still train after the sweep notices the outage,
# two trials and a 2 s retry window in; the outage ends while the driver is stopped.
LONG_GRID = [
    "task=digits_mlp",
    "optimizer=sgd",
    "optimizer.lr=0.01,0.02,0.03,0.05,0.07,0.1,0.15,0.2",
    "trainer.steps=12000",
    "trainer.eval_every=4000",
    "sweep.trials_per_task=1",
    "ray.num_cpus=2",
]


def outage_until_spooled(sweep: SweepProcess, server: MlflowServer, folder) -> str:
    """The server goes away until the sweep spools a result, and restarts while the driver is
    stopped (its trials go on in Ray): it is back before the sweep ends, however long the
    restart takes on a busy machine. The sweep, drained in the same run, exits 0: its output."""
    server.stop()
    sweep.wait_for_text("results go to", timeout=120)
    sweep.process.send_signal(signal.SIGSTOP)
    server.start()
    sweep.process.send_signal(signal.SIGCONT)
    code = sweep.wait()
    output = sweep.output()
    assert code == 0, output
    assert "spooled results logged" in output
    assert not list(folder.glob(".gradsweep-spool/*.jsonl"))
    return output


def test_an_outage_longer_than_the_retry_window_is_drained_in_the_same_run(tmp_path, server):
    args = [*LONG_GRID, f"tracking.uri={server.uri}", "tracking.experiment=outage"]
    # No retries of MLflow's own: trials are still running when the sweep notices the outage,
    # after its 2 s retry window.
    args += ["tracking.retry_seconds=2"]
    no_http_retries = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0"}
    sweep = SweepProcess(args, cwd=tmp_path, env=no_http_retries)
    sweep.wait_for(trials=2)
    output = outage_until_spooled(sweep, server, tmp_path)
    assert "refused the connection" in output
    client = MlflowClient(server.uri)
    [parent] = parents(client, "outage")
    assert_exactly_once(client, parent.info.run_id, grid_size=8, experiment="outage")
    assert client.get_run(parent.info.run_id).info.status == "FINISHED"


def test_probes_spooled_in_an_outage_are_logged_with_their_names_and_tags(
    tmp_path, server, monkeypatch
):
    """A boundary search logs each probe under a name and tags of its own, not the grid's: the
    drain after an outage logs them so, and keeps an earlier run's probe it cannot name yet."""
    monkeypatch.chdir(tmp_path)  # the spool of a server's sweep is in the working directory
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    store, (probe, later, earlier) = store_with_trials(server.uri, "0.01,0.02,0.03", "probes")
    store.spool.append(earlier)  # an earlier run's probe, logged once its round comes
    server.stop()
    try:
        assert not store.log(probe, "probe-a", {"boundary.round": "1"})
    finally:
        server.start()
    assert store.drain() == 0
    assert [result.trial_id for result in store.spool.load()] == [earlier.trial_id]
    assert store.log(later, "probe-b", {"boundary.round": "2"})
    store.close()
    client = MlflowClient(server.uri)
    [parent] = parents(client, "probes")
    runs = {run.info.run_name: run for run in children(client, parent.info.run_id, "probes")}
    assert set(runs) == {"probe-a", "probe-b"}
    assert runs["probe-a"].data.tags["boundary.round"] == "1"
    assert runs["probe-a"].data.tags[contract.TRIAL_ID] == probe.trial_id


def test_a_boundary_search_through_an_outage_logs_every_probe_with_its_tags(tmp_path, server):
    # Two points (heavy-ball m = 0 and 0.9), not the default seven: rounds enough either way.
    args = ["sweep=boundary", "optimizer=momentum", "optimizer.momentum=0,0.9", "ray.num_cpus=2"]
    args += [f"tracking.uri={server.uri}", "tracking.experiment=boundary_outage"]
    args += ["tracking.retry_seconds=2"]
    sweep = SweepProcess(args, cwd=tmp_path, env={"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0"})
    sweep.wait_for_text(r"round 1: ")
    output = outage_until_spooled(sweep, server, tmp_path)
    client = MlflowClient(server.uri)
    [parent] = parents(client, "boundary_outage")
    assert client.get_run(parent.info.run_id).info.status == "FINISHED"
    probes = children(client, parent.info.run_id, "boundary_outage")
    trained = re.findall(r"round \d+: \d+ probes \((\d+) trained\)", output)
    assert len(probes) == sum(map(int, trained)) > 0
    assert all("boundary.round" in probe.data.tags for probe in probes)
