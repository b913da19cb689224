"""A user's own optimizer in a sweep through `_target_`, and a trial that raises: FAILED, kept."""

import pytest
from support import children, sweep_into

from trainer import contract
from trainer.training.result import CONVERGED, FAILED

pytestmark = pytest.mark.slow  # every test runs scripts/sweep.py on Ray


def sweep_with(tmp_path, optimizer: str, *overrides: str):
    """A quadratic sweep with one of tests/helpers/custom_optimizers.py; its output and parent."""
    return sweep_into(
        tmp_path,
        "task=quadratic",
        "optimizer=sgd",
        f"optimizer._target_=custom_optimizers.{optimizer}",
        *overrides,
    )


@pytest.mark.usefixtures("sqlite_store")
def test_custom_optimizer_runs_in_a_sweep_and_a_raising_trial_is_recorded_failed(tmp_path):
    lrs = [0.01, 0.03, 0.1, 0.3]
    done, client, parent = sweep_with(
        tmp_path, "BrokenSGD", "optimizer.lr=" + ",".join(map(str, lrs)), "trainer.steps=100"
    )
    runs = {float(r.data.params["optimizer.lr"]): r for r in children(client, parent.info.run_id)}
    assert sorted(runs) == lrs
    for lr, run in runs.items():
        assert run.data.params["optimizer._target_"] == "custom_optimizers.BrokenSGD"
        if lr >= 0.1:
            assert run.info.status == "FAILED" and run.data.tags[contract.OUTCOME] == FAILED
            path = client.download_artifacts(
                run.info.run_id, contract.TRACEBACK_FILE, str(tmp_path)
            )
            text = open(path).read()
            assert "RuntimeError: BrokenSGD cannot take lr=" in text and "Traceback" in text
        else:
            assert run.info.status == "FINISHED" and run.data.tags[contract.OUTCOME] == CONVERGED
    metrics = client.get_run(parent.info.run_id).data.metrics
    assert metrics[FAILED] == 2 and metrics[CONVERGED] == 2 and metrics[contract.TRIALS] == 4
    assert "2 failed" in done.stdout


@pytest.mark.usefixtures("sqlite_store")
def test_sign_sgd_defined_outside_the_package_trains(tmp_path):
    _, client, parent = sweep_with(
        tmp_path, "SignSGD", "optimizer.lr=0.01,0.001", "trainer.steps=300"
    )
    runs = children(client, parent.info.run_id)
    assert len(runs) == 2
    for run in runs:
        # Sign descent moves each coordinate lr toward 0 per step, from (-10, 1); the loss
        # recorded at the last step (index 299) is taken after 299 updates, where x is still
        # -10 + 299 lr and y has either not reached 0 or oscillates within lr of it.
        lr = float(run.data.params["optimizer.lr"])
        x = -10 + 299 * lr
        y_bound = max(1 - 299 * lr, lr)
        final = run.data.metrics[contract.FINAL_TRAIN_LOSS]
        assert 0.5 * x * x <= final <= 0.5 * (x * x + 50 * y_bound * y_bound) + 1e-9
        assert run.data.tags[contract.OUTCOME] == CONVERGED
