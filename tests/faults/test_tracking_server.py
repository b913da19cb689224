"""Sweeps against a real `mlflow server` on loopback: normal use, and the server going away."""

import json
import re
import signal
import urllib.request

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
    store_with_trials,
)

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


@pytest.fixture(scope="module")
def server(tmp_path_factory, copy_store):
    """One server for the module; each test logs to an experiment of its own."""
    folder = tmp_path_factory.mktemp("server")
    copy_store(folder, "server.db")  # the server's store: migrated once per session
    try:
        server = MlflowServer(folder).start()
    except AssertionError as error:
        if "exited" not in str(error):
            raise
        # A port free when picked can be taken before the server binds it (other tests, other
        # processes on the machine): once more, on another.
        server = MlflowServer(folder).start()
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
    args.append("tracking.retry_seconds=2")  # spool soon: the server stays away
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


# Long digits trials (about 4 s each): a sweep that lives long enough to be disturbed.
LONG_GRID = [
    "task=digits_mlp",
    "optimizer=sgd",
    "optimizer.lr=0.01,0.02,0.03,0.05,0.07,0.1,0.15,0.2",
    "trainer.steps=30000",
    "trainer.eval_every=10000",
    "sweep.trials_per_task=1",
    "ray.num_cpus=2",
]


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
    [line] = second.stderr.strip().splitlines()
    assert "another driver" in line and f":{first.process.pid}:" in line
    assert first.process.poll() is None
    assert first.wait() == 0, first.output()
    client = MlflowClient(server.uri)
    [parent] = parents(client, "two_drivers")
    assert_exactly_once(client, parent.info.run_id, grid_size=8, experiment="two_drivers")


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
    args = ["sweep=boundary", "ray.num_cpus=2", f"tracking.uri={server.uri}"]
    args += ["tracking.experiment=boundary_outage", "tracking.retry_seconds=2"]
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
