"""The record on a sqlite store: a driver killed, changed code, a refused result."""

import os
import signal

import pytest
from mlflow import MlflowClient
from support import (
    DIGITS_GRID,
    REPO,
    assert_exactly_once,
    children,
    forked_children,
    parents,
    run_script,
    sqlite_uri,
    store_with_trials,
)
from sweep_process import SweepProcess

from trainer import contract
from trainer.training.result import FAILED


@pytest.mark.slow
@pytest.mark.usefixtures("sqlite_store")
def test_after_kill_9_of_driver_and_store_a_rerun_takes_over_and_completes_once(tmp_path):
    args = [*DIGITS_GRID, f"tracking.uri={sqlite_uri(tmp_path)}"]
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


@pytest.mark.slow
@pytest.mark.usefixtures("sqlite_store")
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


@pytest.mark.usefixtures("sqlite_store")
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
