"""A Result becomes MLflow metrics in batches: one point per finite step, at most 1000 a call."""

import math

import numpy as np
import pytest
from mlflow import MlflowClient

from trainer import contract
from trainer.tracking.run_record import log_result, open_store, result_metrics
from trainer.training.loop import train
from trainer.training.result import DIVERGED, Divergence, Result


class RecordingClient(MlflowClient):
    """A real MlflowClient that also notes how many metrics and params each log_batch carried."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.batches = []

    def log_batch(self, run_id, metrics=(), params=(), tags=(), *args, **kwargs):
        self.batches.append((len(metrics), len(params)))
        return super().log_batch(run_id, metrics, params, tags, *args, **kwargs)


def by_key(metrics):
    grouped = {}
    for metric in metrics:
        grouped.setdefault(metric.key, []).append((metric.step, metric.value))
    return grouped


def test_result_metrics_give_one_train_loss_point_per_step(compose):
    result = train(
        compose(["task=linear_regression", "trainer.steps=120", "trainer.eval_every=40"])
    )
    metrics = by_key(result_metrics(result))
    assert metrics[contract.TRAIN_LOSS] == list(enumerate(result.train_loss.tolist()))
    assert metrics[contract.VAL_LOSS] == [(e["step"], e[contract.VAL_LOSS]) for e in result.evals]
    assert [step for step, _ in metrics[contract.VAL_LOSS]] == [39, 79, 119]
    assert metrics[contract.FINAL_TRAIN_LOSS] == [(119, result.train_loss[-1])]
    assert metrics[contract.FINAL_VAL_LOSS] == [(119, result.evals[-1][contract.VAL_LOSS])]
    assert metrics[contract.DIVERGED_METRIC] == [(119, 0.0)]


def test_result_metrics_leave_out_every_non_finite_value(compose):
    config = compose(["task=quadratic", "trainer.steps=5"])
    losses = np.array([3.0, 2.0, np.inf, np.nan, -np.inf, 1.0])
    result = Result(
        config=config,
        outcome=DIVERGED,
        train_loss=losses,
        evals=[{"step": 1, contract.VAL_LOSS: np.nan, contract.VAL_ACCURACY: 0.5}],
        final={contract.FINAL_TRAIN_LOSS: 1.0, contract.FINAL_VAL_LOSS: np.inf},
        divergence=Divergence(5, "non-finite loss", 1.0, np.nan),
    )
    metrics = result_metrics(result)
    assert all(math.isfinite(metric.value) for metric in metrics)
    grouped = by_key(metrics)
    assert grouped[contract.TRAIN_LOSS] == [(0, 3.0), (1, 2.0), (5, 1.0)]
    assert grouped[contract.VAL_ACCURACY] == [(1, 0.5)]
    assert contract.VAL_LOSS not in grouped and contract.FINAL_VAL_LOSS not in grouped
    assert grouped[contract.DIVERGED_METRIC] == [(5, 1.0)]


@pytest.fixture(scope="module")
def long_run(compose, tmp_path_factory, copy_store):
    """A real 2500-step result logged to a real sqlite store through a recording client."""
    config = compose(
        ["optimizer=sgd", "optimizer.lr=0.001", "trainer.steps=2500", "trainer.log_every=1"]
    )
    result = train(config)
    uri = copy_store(tmp_path_factory.mktemp("store"))
    _, experiment_id = open_store(uri, "gradsweep")
    client = RecordingClient(tracking_uri=uri)
    run_id = log_result(client, experiment_id, result, "long")
    return client, run_id, result


def test_a_2500_step_run_stores_every_train_loss_point(long_run):
    client, run_id, result = long_run
    assert result.steps_run == 2500
    history = sorted(client.get_metric_history(run_id, contract.TRAIN_LOSS), key=lambda m: m.step)
    assert [m.step for m in history] == list(range(2500))
    assert np.array_equal([m.value for m in history], result.train_loss)
    assert client.get_run(run_id).info.status == "FINISHED"


def test_metrics_go_in_batches_of_at_most_1000(long_run):
    client, _, result = long_run
    sizes = [metrics for metrics, _ in client.batches if metrics]
    assert sum(sizes) == len(result_metrics(result)) == 2500 + 2  # final_train_loss, diverged
    assert max(sizes) <= 1000
    assert len(sizes) == math.ceil(sum(sizes) / 1000)
    assert all(params <= 100 for _, params in client.batches)
