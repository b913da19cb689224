"""`trainer.log_every`: a tracked curve of bounded length that keeps the first, last and
divergence steps, and the run's train_loss.npz, which restores every step exactly."""

import numpy as np
import pytest
from mlflow import MlflowClient

from trainer import contract
from trainer.config.compose import TrialChecker
from trainer.config.errors import ConfigError
from trainer.tracking.curve import BEFORE_DIVERGENCE, POINTS_PER_CURVE, from_npz
from trainer.tracking.run_record import log_result, open_store
from trainer.training.loop import train
from trainer.training.result import DIVERGED

# SGD at lr 0.041 on the quadratic (lambda_max 50) is just past 2 / lambda_max: a slow blow-up.
DIVERGING = ["task=quadratic", "optimizer=sgd", "optimizer.lr=0.041", "trainer.steps=3000"]


@pytest.fixture(scope="module")
def store(tmp_path_factory, copy_store):
    uri = copy_store(tmp_path_factory.mktemp("store"))
    client, experiment_id = open_store(uri, "gradsweep")
    return client, experiment_id, tmp_path_factory.mktemp("downloads")


def logged(store, result) -> tuple[list[int], np.ndarray]:
    """Log `result`; the tracked train_loss steps, and the curve its train_loss.npz restores."""
    client, experiment_id, folder = store
    run_id = log_result(client, experiment_id, result, "run")
    reader = MlflowClient(client.tracking_uri)
    steps = sorted(m.step for m in reader.get_metric_history(run_id, contract.TRAIN_LOSS))
    path = reader.download_artifacts(run_id, contract.TRAIN_LOSS_FILE, str(folder / run_id))
    with open(path, "rb") as file:
        return steps, from_npz(file.read())


def test_a_sampled_diverged_curve_keeps_first_last_and_divergence_steps(compose, store):
    result = train(compose([*DIVERGING, "trainer.log_every=7"]))
    assert result.outcome == DIVERGED and result.steps_run > 2 * BEFORE_DIVERGENCE
    steps, curve = logged(store, result)
    diverged_at, last = result.divergence.step, result.steps_run - 1
    before = set(range(diverged_at - BEFORE_DIVERGENCE, diverged_at + 1)) & set(range(last + 1))
    finite = {s for s in range(result.steps_run) if np.isfinite(result.train_loss[s])}
    assert {0, last} | (before & finite) <= set(steps)
    assert set(range(0, result.steps_run, 7)) & finite <= set(steps)
    assert len(steps) < result.steps_run
    # The file restores every step bit for bit, the ones the metric left out included.
    assert curve.dtype == np.float64
    assert curve.tobytes() == result.train_loss.tobytes()


def test_the_default_keeps_about_a_thousand_points_and_log_every_1_keeps_all(compose, store):
    config = compose(["task=quadratic", "trainer.steps=5000", "trainer.eval_every=5000"])
    result = train(config)
    steps, curve = logged(store, result)
    assert steps[0] == 0 and steps[-1] == 4999
    assert POINTS_PER_CURVE <= len(steps) <= POINTS_PER_CURVE + 1
    assert curve.tobytes() == result.train_loss.tobytes()
    config["trainer"]["log_every"] = 1
    result.config = config
    steps, _ = logged(store, result)
    assert steps == list(range(5000))


def test_a_negative_log_every_is_refused_in_one_line(compose):
    with pytest.raises(ConfigError, match=r"^trainer\.log_every=-1 is not allowed: .*>= 0$"):
        TrialChecker().check(compose(["trainer.log_every=-1"]))
