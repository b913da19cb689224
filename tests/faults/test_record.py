"""The record on a sqlite store: one driver per sweep, a driver killed, changed code, a lock."""

import os
import signal
import sqlite3
import threading
import time

import pytest
from mlflow import MlflowClient
from support import (
    REPO,
    SweepProcess,
    assert_exactly_once,
    children,
    forked_children,
    parents,
    run_script,
    sqlite_uri,
    store_with_trials,
)

from trainer import contract
from trainer.result import FAILED

# About 0.8 s a trial on digits, 3 s for the 8 on 2 CPUs: a sweep that lives long enough
# to be disturbed after its first trials.
GRID = [
    "task=digits_mlp",
    "optimizer=sgd",
    "optimizer.lr=0.01,0.02,0.03,0.05,0.07,0.1,0.15,0.2",
    "trainer.steps=6000",
    "trainer.eval_every=3000",
    "sweep.trials_per_task=1",
    "ray.num_cpus=2",
]


def assert_refused_by(done, holder_pid: int) -> str:
    """A second driver's exit: code 2, one line naming the driver holding the sweep."""
    assert done.returncode == 2, done.stdout + done.stderr
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("error: sweep ") and "another driver" in line
    assert f":{holder_pid}:" in line and "since" in line
    return line


def test_a_second_driver_is_refused_and_the_first_finishes_exactly_once(tmp_path):
    # Longer trials (about 4 s each): the second driver takes seconds to start, and must find
    # the first running.
    longer = [arg.replace("steps=6000", "steps=30000") for arg in GRID]
    args = [*longer, f"tracking.uri={sqlite_uri(tmp_path)}"]
    first = SweepProcess(args, cwd=tmp_path)
    first.wait_for_start()  # it holds the lease: from here on a second driver is refused
    second = run_script("sweep.py", *args, cwd=tmp_path)
    assert_refused_by(second, first.process.pid)
    assert first.process.poll() is None  # refused while the first still ran
    assert first.wait() == 0, first.output()
    client = MlflowClient(sqlite_uri(tmp_path))
    [parent] = parents(client)
    assert_exactly_once(client, parent.info.run_id, grid_size=8)
    parent = client.get_run(parent.info.run_id)
    assert parent.info.status == "FINISHED" and contract.LEASE_OWNER not in parent.data.tags

    # A lease another machine holds, its heartbeat fresh: refused before anything starts.
    now = time.time()
    client.set_tag(parent.info.run_id, contract.LEASE_OWNER, "elsewhere:4242:cafe")
    client.set_tag(parent.info.run_id, contract.LEASE_SINCE, str(now - 100))
    client.set_tag(parent.info.run_id, contract.LEASE_HEARTBEAT, str(now))
    refused = run_script("sweep.py", *args, cwd=tmp_path)
    assert refused.returncode == 2 and "(elsewhere:4242:cafe)" in refused.stderr


def test_a_lease_is_taken_over_once_its_heartbeat_is_older_than_the_stale_bound(tmp_path):
    from trainer.sweep.lease import STALE_SECONDS, Lease, LeaseHeld

    client = MlflowClient(sqlite_uri(tmp_path))
    run_id = client.create_run(client.create_experiment("leases")).info.run_id
    now = time.time()
    holder = {contract.LEASE_OWNER: "elsewhere:4242:cafe", contract.LEASE_SINCE: str(now - 100)}
    for key, value in {**holder, contract.LEASE_HEARTBEAT: str(now - 5)}.items():
        client.set_tag(run_id, key, value)
    lease = Lease(client, run_id, os.getpid())
    with pytest.raises(LeaseHeld, match="elsewhere:4242:cafe"):
        lease.acquire()
    client.set_tag(run_id, contract.LEASE_HEARTBEAT, str(now - STALE_SECONDS - 1))
    lease.acquire()
    assert client.get_run(run_id).data.tags[contract.LEASE_OWNER] == lease.owner
    lease.release()
    assert contract.LEASE_OWNER not in client.get_run(run_id).data.tags


def test_a_lease_taken_over_is_seen_lost_by_the_heartbeat_and_left_to_its_new_holder(
    tmp_path, monkeypatch
):
    from trainer.sweep import lease as leases
    from trainer.sweep.store_protocol import LeaseLost

    monkeypatch.setattr(leases, "HEARTBEAT_SECONDS", 0.1)
    client = MlflowClient(sqlite_uri(tmp_path))
    run_id = client.create_run(client.create_experiment("leases")).info.run_id
    lease = leases.Lease(client, run_id, os.getpid())
    lease.acquire()
    assert lease.holds()
    lease.check()
    client.set_tag(run_id, contract.LEASE_OWNER, "elsewhere:4242:cafe")
    deadline = time.monotonic() + 30
    while lease.lost is None and time.monotonic() < deadline:
        time.sleep(0.05)  # the next beat reads the owner back
    with pytest.raises(LeaseLost, match=r"another driver \(elsewhere:4242:cafe\) took"):
        lease.check()
    assert not lease.holds()
    lease.release()
    assert client.get_run(run_id).data.tags[contract.LEASE_OWNER] == "elsewhere:4242:cafe"


def test_a_store_whose_lease_was_taken_over_writes_nothing_more(tmp_path):
    from trainer.sweep.ranking import Ranking
    from trainer.sweep.store_protocol import LeaseLost
    from trainer.sweep.summary import Row

    uri = sqlite_uri(tmp_path)
    store, (first, second) = store_with_trials(uri, "0.01,0.02")
    assert store.log(first, "first")
    client = MlflowClient(uri)
    [parent] = parents(client)
    client.set_tag(parent.info.run_id, contract.LEASE_OWNER, "elsewhere:4242:cafe")
    # Ending the parent reads the lease back first: the sweep is the other driver's now.
    with pytest.raises(LeaseLost, match="elsewhere:4242:cafe"):
        store.finish([Row.from_result(first, "first")], 1.0, 1, Ranking())
    with pytest.raises(LeaseLost):
        store.log(second, "second")  # neither logged nor spooled: the new holder trains it
    store.abort("KILLED", "interrupted")
    store.close()
    parent = client.get_run(parent.info.run_id)
    assert parent.info.status == "RUNNING"
    assert parent.data.tags[contract.LEASE_OWNER] == "elsewhere:4242:cafe"
    assert contract.FAILURE_REASON not in parent.data.tags
    assert [run.info.run_name for run in children(client, parent.info.run_id)] == ["first"]
    assert not store.spool.path.exists()


def test_after_a_silence_of_its_heartbeat_a_store_reads_the_lease_back_before_writing(tmp_path):
    from trainer.sweep.store_protocol import LeaseLost

    uri = sqlite_uri(tmp_path)
    store, (first, second) = store_with_trials(uri, "0.01,0.02")
    # As if this driver's processes had been stopped for a minute: no heartbeat since.
    store.lease.last_beat -= 60
    assert store.log(first, "first")  # the lease read back, still its own
    client = MlflowClient(uri)
    [parent] = parents(client)
    client.set_tag(parent.info.run_id, contract.LEASE_OWNER, "elsewhere:4242:cafe")
    with pytest.raises(LeaseLost, match="elsewhere:4242:cafe"):
        store.log(second, "second")  # read back before its heartbeat would have noticed
    store.close()
    assert [run.info.run_name for run in children(client, parent.info.run_id)] == ["first"]
    assert not store.spool.path.exists()


def test_a_refused_write_is_not_recorded_failed_in_a_sweep_taken_over(tmp_path):
    """A driver stopped mid-write finds, on waking, its run deleted by the driver that took the
    sweep over: MLflow refuses the rest of the write, and it is not recorded as a FAILED run."""
    from trainer.sweep.store_protocol import LeaseLost

    uri = sqlite_uri(tmp_path)
    store, (refused, _) = store_with_trials(uri, "0.01,0.02")
    client = MlflowClient(uri)
    [parent] = parents(client)
    client.set_tag(parent.info.run_id, contract.LEASE_OWNER, "elsewhere:4242:cafe")
    refused.config = {**refused.config, "bad*name": 1}  # a write MLflow refuses
    with pytest.raises(LeaseLost, match="elsewhere:4242:cafe"):
        store.log(refused, "refused")
    store.close()
    # Only the write cut short is there, RUNNING: what the new holder's resume deletes.
    assert [run.info.status for run in children(client, parent.info.run_id)] == ["RUNNING"]


def test_a_driver_whose_lease_was_taken_over_stops_and_a_rerun_completes_once(tmp_path):
    args = [*GRID, f"tracking.uri={sqlite_uri(tmp_path)}"]
    first = SweepProcess(args, cwd=tmp_path)
    first.wait_for(trials=1)
    client = MlflowClient(sqlite_uri(tmp_path))
    [parent] = parents(client)
    run_id = parent.info.run_id
    # What another machine's driver writes on taking over a lease it found stale.
    now = time.time()
    client.set_tag(run_id, contract.LEASE_OWNER, "elsewhere:4242:cafe")
    client.set_tag(run_id, contract.LEASE_SINCE, str(now))
    client.set_tag(run_id, contract.LEASE_HEARTBEAT, str(now))
    assert first.wait() == 1, first.output()
    [line] = [line for line in first.output().splitlines() if "error" in line]
    assert line.startswith("error: another driver (elsewhere:4242:cafe) took this sweep over")
    assert "Traceback" not in first.output()
    parent = client.get_run(run_id)
    assert parent.info.status == "RUNNING", "the parent is the new holder's to end"
    assert parent.data.tags[contract.LEASE_OWNER] == "elsewhere:4242:cafe"
    assert all(run.info.status == "FINISHED" for run in children(client, run_id))

    # The other driver goes away (its heartbeat stale): a rerun takes over and completes once.
    client.set_tag(run_id, contract.LEASE_HEARTBEAT, str(now - 60))
    done = run_script("sweep.py", *args, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert_exactly_once(client, run_id, grid_size=8)
    assert client.get_run(run_id).info.status == "FINISHED"


def test_after_kill_9_of_driver_and_store_a_rerun_takes_over_and_completes_once(tmp_path):
    args = [*GRID, f"tracking.uri={sqlite_uri(tmp_path)}"]
    first = SweepProcess(args, cwd=tmp_path)
    first.wait_for(trials=2)
    [store_process] = forked_children(first.process.pid)
    for pid in (first.process.pid, store_process):
        os.kill(pid, signal.SIGKILL)
    first.wait()

    # Within the stale bound: the holder was a process of this machine, and it is gone.
    done = run_script("sweep.py", *args, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    client = MlflowClient(sqlite_uri(tmp_path))
    [parent] = parents(client)
    assert_exactly_once(client, parent.info.run_id, grid_size=8)
    assert client.get_run(parent.info.run_id).info.status == "FINISHED"


USER_OPTIMIZER = '''
from optimizers import Optimizer


class Halving(Optimizer):
    """A user's own rule, outside the project."""

    def update(self, theta, g, state):
        theta -= self.lr * g
'''


def test_changed_code_retrains_every_trial_and_supersedes_the_old_runs(tmp_path):
    module = tmp_path / "user_rules.py"
    module.write_text(USER_OPTIMIZER)
    args = [
        "task=quadratic",
        "optimizer=sgd",
        "optimizer._target_=user_rules.Halving",
        "optimizer.lr=0.005,0.01",
        "trainer.steps=50",
        "ray.num_cpus=2",
        f"tracking.uri={sqlite_uri(tmp_path)}",
    ]
    env = {"PYTHONPATH": os.pathsep.join([str(tmp_path), str(REPO)])}
    run_script("sweep.py", *args, cwd=tmp_path, env=env, check=True)
    client = MlflowClient(sqlite_uri(tmp_path))
    [parent] = parents(client)
    old = {r.info.run_id: r for r in children(client, parent.info.run_id)}
    [old_print] = {r.data.tags[contract.CODE_FINGERPRINT] for r in old.values()}

    module.write_text(USER_OPTIMIZER.replace("theta -= self.lr * g", "theta -= 0.5 * self.lr * g"))
    done = run_script("sweep.py", *args, cwd=tmp_path, env=env, check=True)
    assert "code changed: 2 trials" in done.stdout and "0 already done, 2 to run" in done.stdout

    new = assert_exactly_once(client, parent.info.run_id, grid_size=2)
    [new_print] = {r.data.tags[contract.CODE_FINGERPRINT] for r in new}
    assert new_print != old_print and not set(old) & {r.info.run_id for r in new}
    for run in children(client, parent.info.run_id):
        if run.info.run_id in old:
            assert run.data.tags[contract.SUPERSEDED] == "true"
            assert run.data.tags[contract.SUPERSEDED_BY] == new_print
    # The summary is the new code's: half the step, a higher loss after the same steps.
    summary = client.get_run(parent.info.run_id)
    best_new = min(r.data.metrics[contract.FINAL_TRAIN_LOSS] for r in new)
    best_old = min(r.data.metrics[contract.FINAL_TRAIN_LOSS] for r in old.values())
    assert summary.data.metrics[contract.TRIALS] == 2
    assert summary.data.metrics[contract.BEST_FINAL_LOSS] == best_new > best_old
    assert summary.data.tags[contract.CODE_FINGERPRINT] == new_print
    assert summary.data.tags[contract.NOTE].startswith("python ")
    assert "optimizer._target_=user_rules.Halving" in summary.data.tags[contract.NOTE]
    assert {"mlflow.user", "mlflow.source.name", "mlflow.source.type"} <= set(summary.data.tags)


def hold_exclusive_lock(database, seconds: float, taken: threading.Event) -> None:
    """What any other sqlite user can do: lock the whole file for a while."""
    connection = sqlite3.connect(database, timeout=120, isolation_level=None)
    connection.execute("BEGIN EXCLUSIVE")
    taken.set()
    time.sleep(seconds)
    connection.execute("ROLLBACK")
    connection.close()


def test_a_lock_longer_than_mlflows_busy_timeout_is_waited_out(tmp_path):
    args = [*GRID, f"tracking.uri={sqlite_uri(tmp_path)}"]
    sweep = SweepProcess(args, cwd=tmp_path)
    sweep.wait_for(trials=1)
    taken = threading.Event()
    locker = threading.Thread(target=hold_exclusive_lock, args=(tmp_path / "mlflow.db", 40, taken))
    locker.start()
    taken.wait()
    code = sweep.wait()
    locker.join()
    output = sweep.output()
    assert code == 0, output
    assert "Traceback" not in output, output
    assert not [line for line in output.splitlines() if line.startswith(("error", "warning"))]
    assert not list(tmp_path.glob(".gradsweep-spool/*.jsonl"))
    client = MlflowClient(sqlite_uri(tmp_path))
    [parent] = parents(client)
    assert_exactly_once(client, parent.info.run_id, grid_size=8)
    assert client.get_run(parent.info.run_id).info.status == "FINISHED"


def test_a_result_mlflow_refuses_becomes_a_failed_child_and_the_sweep_goes_on(tmp_path):
    uri = sqlite_uri(tmp_path)
    store, (refused, fine) = store_with_trials(uri, "0.01,0.02")
    refused.config = {**refused.config, "bad*name": 1}  # a name MLflow refuses
    assert store.log(refused, "refused") and store.log(fine, "fine")
    store.close()
    client = MlflowClient(uri)
    [parent] = parents(client)
    runs = {r.info.run_name: r for r in children(client, parent.info.run_id)}
    assert set(runs) == {"refused", "fine"}
    assert runs["refused"].info.status == "FAILED"
    assert runs["refused"].data.tags[contract.OUTCOME] == FAILED
    assert "MLflow refused" in runs["refused"].data.tags[contract.FAILURE_REASON]
    assert runs["fine"].info.status == "FINISHED"
    assert not store.spool.path.exists()


def test_sigterm_and_a_second_ctrl_c_end_the_parent_killed_with_nothing_running(tmp_path):
    args = [*GRID, f"tracking.uri={sqlite_uri(tmp_path)}"]
    client = MlflowClient(sqlite_uri(tmp_path))
    for stop, how in ((signal.SIGTERM,), "SIGTERM"), ((signal.SIGINT, signal.SIGINT), "Ctrl-C"):
        sweep = SweepProcess(args, cwd=tmp_path)
        sweep.wait_for(trials=sweep.trials_done() + 1)
        for number in stop:
            sweep.process.send_signal(number)
            time.sleep(0.05)
        assert sweep.wait() == 130, sweep.output()
        assert "Traceback" not in sweep.output()
        [parent] = parents(client)
        parent = client.get_run(parent.info.run_id)
        assert parent.info.status == "KILLED", sweep.output()
        assert how in parent.data.tags[contract.FAILURE_REASON]
        assert contract.LEASE_OWNER not in parent.data.tags
        runs = children(client, parent.info.run_id)
        assert runs and all(run.info.status == "FINISHED" for run in runs)
