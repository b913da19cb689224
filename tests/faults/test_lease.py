"""One driver per sweep on a sqlite store: a second one refused, a stale lease taken over, and
a driver whose lease was taken over stopping."""

import os
import signal
import time

import pytest
from mlflow import MlflowClient
from support import (
    DIGITS_GRID,
    assert_exactly_once,
    children,
    parents,
    run_script,
    sqlite_uri,
    store_with_trials,
)
from sweep_process import SweepProcess

from trainer import contract

pytestmark = pytest.mark.usefixtures("one_driver")  # one driver at a time in this process


def assert_refused_by(done, holder_pid: int) -> str:
    """A second driver's exit: code 2, one line naming the driver holding the sweep."""
    assert done.returncode == 2, done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    [line] = lines
    assert line.startswith("error: sweep ") and "another driver" in line
    assert f":{holder_pid}:" in line and "since" in line
    return line


@pytest.mark.slow
@pytest.mark.usefixtures("sqlite_store")
def test_a_second_driver_is_refused_and_the_first_finishes_exactly_once(tmp_path):
    args = [*DIGITS_GRID, f"tracking.uri={sqlite_uri(tmp_path)}"]
    first = SweepProcess(args, cwd=tmp_path)
    first.wait_for_start()  # it holds the lease: from here on a second driver is refused
    # The second driver takes seconds to start, and must find the first running however short
    # its trials: the first driver is stopped meanwhile (its Ray workers train on, its lease
    # stays fresh) and continued once the second has exited.
    first.process.send_signal(signal.SIGSTOP)
    try:
        second = run_script("sweep.py", *args, cwd=tmp_path)
    finally:
        first.process.send_signal(signal.SIGCONT)
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


@pytest.mark.usefixtures("sqlite_store")
def test_a_lease_is_taken_over_once_its_heartbeat_is_older_than_the_stale_bound(tmp_path):
    from trainer.sweep.record.lease import STALE_SECONDS, Lease, LeaseHeld

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


@pytest.mark.usefixtures("sqlite_store")
def test_a_lease_taken_over_is_seen_lost_by_the_heartbeat_and_left_to_its_new_holder(
    tmp_path, monkeypatch
):
    from trainer.sweep.record import lease as leases
    from trainer.sweep.record.store import LeaseLost

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


@pytest.mark.usefixtures("sqlite_store")
def test_a_store_whose_lease_was_taken_over_writes_nothing_more(tmp_path):
    from trainer.sweep.record.store import LeaseLost, ParentSummary

    uri = sqlite_uri(tmp_path)
    store, (first, second) = store_with_trials(uri, "0.01,0.02")
    assert store.log(first, "first")
    client = MlflowClient(uri)
    [parent] = parents(client)
    client.set_tag(parent.info.run_id, contract.LEASE_OWNER, "elsewhere:4242:cafe")
    # Ending the parent reads the lease back first: the sweep is the other driver's now.
    with pytest.raises(LeaseLost, match="elsewhere:4242:cafe"):
        store.finish(ParentSummary(metrics={"trials": 1}), 1.0)
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


@pytest.mark.usefixtures("sqlite_store")
def test_after_a_silence_of_its_heartbeat_a_store_reads_the_lease_back_before_writing(tmp_path):
    from trainer.sweep.record.store import LeaseLost

    uri = sqlite_uri(tmp_path)
    store, (first, second) = store_with_trials(uri, "0.01,0.02")
    # As if this driver's processes had been stopped for a minute: no heartbeat since.
    store.backend.lease.last_beat -= 60
    assert store.log(first, "first")  # the lease read back, still its own
    client = MlflowClient(uri)
    [parent] = parents(client)
    client.set_tag(parent.info.run_id, contract.LEASE_OWNER, "elsewhere:4242:cafe")
    with pytest.raises(LeaseLost, match="elsewhere:4242:cafe"):
        store.log(second, "second")  # read back before its heartbeat would have noticed
    store.close()
    assert [run.info.run_name for run in children(client, parent.info.run_id)] == ["first"]
    assert not store.spool.path.exists()


@pytest.mark.usefixtures("sqlite_store")
def test_a_refused_write_is_not_recorded_failed_in_a_sweep_taken_over(tmp_path):
    """A driver stopped mid-write finds, on waking, its run deleted by the driver that took the
    sweep over: MLflow refuses the rest of the write, and it is not recorded as a FAILED run."""
    from trainer.sweep.record.store import LeaseLost

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


@pytest.mark.slow
@pytest.mark.usefixtures("sqlite_store")
def test_a_driver_whose_lease_was_taken_over_stops_and_a_rerun_completes_once(tmp_path):
    args = [*DIGITS_GRID, f"tracking.uri={sqlite_uri(tmp_path)}"]
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
    [line] = [line for line in first.output().splitlines() if line.startswith("error")]
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
