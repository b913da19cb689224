"""The record on a sqlite store: a lock longer than MLflow waits, SIGTERM and a second Ctrl-C."""

import signal
import sqlite3
import threading
import time

import pytest
from mlflow import MlflowClient
from support import (
    DIGITS_GRID,
    assert_exactly_once,
    children,
    finished_children,
    parents,
    sqlite_uri,
)
from sweep_process import SweepProcess

from trainer import contract

# MLflow's sqlite sessions wait this long on a locked database (PRAGMA busy_timeout = 20000 in
# mlflow/store/db/utils.py) before raising "database is locked". The lock below outlasts it by a
# margin: the sweep's own retries (record/retry.py), not SQLite's wait, must see it out.
MLFLOW_BUSY_TIMEOUT = 20.0
LOCK_SECONDS = MLFLOW_BUSY_TIMEOUT + 6.0


def hold_exclusive_lock(database, seconds: float, taken: threading.Event) -> None:
    """What any other sqlite user can do: lock the whole file for a while."""
    connection = sqlite3.connect(database, timeout=120, isolation_level=None)
    connection.execute("BEGIN EXCLUSIVE")
    taken.set()
    time.sleep(seconds)
    connection.execute("ROLLBACK")
    connection.close()


@pytest.mark.slow
@pytest.mark.usefixtures("sqlite_store")
def test_a_lock_longer_than_mlflows_busy_timeout_is_waited_out(tmp_path):
    args = [*DIGITS_GRID, f"tracking.uri={sqlite_uri(tmp_path)}"]
    sweep = SweepProcess(args, cwd=tmp_path)
    sweep.wait_for(trials=1)
    taken = threading.Event()
    locker = threading.Thread(
        target=hold_exclusive_lock, args=(tmp_path / "mlflow.db", LOCK_SECONDS, taken)
    )
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


@pytest.mark.slow
@pytest.mark.usefixtures("sqlite_store")
def test_sigterm_and_a_second_ctrl_c_end_the_parent_killed_with_nothing_running(tmp_path):
    args = [*DIGITS_GRID, f"tracking.uri={sqlite_uri(tmp_path)}"]
    client = MlflowClient(sqlite_uri(tmp_path))
    for stop, how in ((signal.SIGTERM,), "SIGTERM"), ((signal.SIGINT, signal.SIGINT), "Ctrl-C"):
        before = finished_children(client)
        sweep = SweepProcess(args, cwd=tmp_path)
        sweep.wait_for_logged(lambda: finished_children(client), before + 1)
        for number in stop:
            sweep.process.send_signal(number)
            time.sleep(0.05)
        assert sweep.wait() == 130, sweep.output()
        assert "Traceback" not in sweep.output()
        [parent] = parents(client)
        parent = client.get_run(parent.info.run_id)
        reason = parent.data.tags.get(contract.FAILURE_REASON)
        assert parent.info.status == "KILLED", f"{reason}\n{sweep.output()}"
        assert reason and how in reason, reason
        assert contract.LEASE_OWNER not in parent.data.tags
        runs = children(client, parent.info.run_id)
        assert runs and all(run.info.status == "FINISHED" for run in runs)
