"""`python scripts/train.py` end to end: the MLflow run it writes, read back with MlflowClient."""

import math

import numpy as np
import pytest
import yaml
from mlflow import MlflowClient

from trainer import contract
from trainer.training.loop import train
from trainer.training.result import CONVERGED, DIVERGED

pytestmark = pytest.mark.slow  # scripts/train.py launched for each stored run

PNG = b"\x89PNG\r\n\x1a\n"
STORE = "tracking.uri=sqlite:///{store}/mlflow.db"

SCRIPT_RUNS = {
    "quadratic": (
        "task=quadratic",
        "optimizer=momentum",
        "optimizer.lr=0.015",
        "optimizer.momentum=0.8",
        "trainer.steps=200",
        "trainer.seed=3",
        STORE,
    ),
    # No tracking.uri: the store is ./mlflow.db of the working directory.
    "digits": ("task=digits_mlp", "trainer.steps=100", "trainer.eval_every=20"),
    # Step 0 throws the point to ~1e103, where the quartic overflows: a non-finite loss.
    "diverged": (
        "task=rosenbrock",
        "optimizer=sgd",
        "optimizer.lr=1e100",
        "trainer.steps=100",
        STORE,
    ),
    "custom_untracked": (
        "optimizer=sgd",
        "optimizer._target_=custom_optimizers.SignSGD",
        "optimizer.name=sign_sgd",
        "optimizer.lr=0.25",
        "task=quadratic",
        "trainer.steps=30",
        "tracking=none",
    ),
}


def flat(config: dict, prefix: str = "") -> dict:
    out = {}
    for key, value in config.items():
        if isinstance(value, dict):
            out.update(flat(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


class StoredRun:
    """One finished script run, its MLflow record read back, and train() on the same config."""

    def __init__(self, script_runs, name: str, compose, db_in: str):
        launched = script_runs[name]
        self.done = launched.result()
        assert self.done.returncode == 0, self.done.stderr
        self.cwd = launched.cwd
        self.db = (launched.cwd if db_in == "cwd" else launched.store) / "mlflow.db"
        self.uri = f"sqlite:///{self.db}"
        self.client = MlflowClient(tracking_uri=self.uri)
        experiment = self.client.get_experiment_by_name("gradsweep")
        runs = self.client.search_runs([experiment.experiment_id])
        assert len(runs) == 1
        self.run = runs[0]
        self.run_id = self.run.info.run_id
        overrides = [arg for arg in SCRIPT_RUNS[name] if not arg.startswith("tracking")]
        self.config = compose(overrides)
        self.expected = train(self.config)

    def history(self, key: str) -> list[tuple[int, float]]:
        points = self.client.get_metric_history(self.run_id, key)
        return sorted((m.step, m.value) for m in points)

    def artifact(self, path: str, tmp_path) -> bytes:
        local = self.client.download_artifacts(self.run_id, path, str(tmp_path))
        with open(local, "rb") as file:
            return file.read()

    def artifact_names(self) -> set[str]:
        return {info.path for info in self.client.list_artifacts(self.run_id)}


@pytest.fixture(scope="module")
def quadratic(script_runs, compose):
    return StoredRun(script_runs, "quadratic", compose, db_in="store")


@pytest.fixture(scope="module")
def digits(script_runs, compose):
    return StoredRun(script_runs, "digits", compose, db_in="cwd")


@pytest.fixture(scope="module")
def diverged(script_runs, compose):
    return StoredRun(script_runs, "diverged", compose, db_in="store")


def test_the_store_is_where_tracking_uri_says_and_nowhere_else(quadratic):
    assert quadratic.db.is_file()
    assert not (quadratic.cwd / "mlflow.db").exists()
    assert f"logged run {quadratic.run_id} to {quadratic.uri};" in quadratic.done.stdout
    assert "Traceback" not in quadratic.done.stdout + quadratic.done.stderr


def test_without_tracking_uri_the_store_is_mlflow_db_in_the_working_directory(digits):
    absolute = digits.cwd.resolve() / "mlflow.db"
    assert absolute.is_file()
    assert f"logged run {digits.run_id} to sqlite:///{absolute};" in digits.done.stdout


def test_params_are_the_flattened_config(quadratic):
    params = quadratic.run.data.params
    config = {key: str(value) for key, value in flat(quadratic.config).items()}
    # Plus lr's exponent: an axis for MLflow's contour and parallel-coordinates charts.
    assert params == {**config, contract.LOG10_LR: f"{math.log10(0.015):.4g}"}
    assert params["optimizer.name"] == "momentum"
    assert params["optimizer._target_"] == "optimizers.Momentum"
    assert float(params["optimizer.lr"]) == 0.015
    assert float(params["optimizer.momentum"]) == 0.8
    assert params["task.name"] == "quadratic"
    assert int(params["trainer.steps"]) == 200
    assert int(params["trainer.seed"]) == 3
    assert float(params["trainer.divergence.factor"]) == 1e4


@pytest.mark.parametrize("name", ["quadratic", "digits", "diverged"])
def test_train_loss_has_one_point_per_step_equal_to_train_in_process(request, name):
    stored = request.getfixturevalue(name)
    history = stored.history(contract.TRAIN_LOSS)
    assert [step for step, _ in history] == list(range(stored.expected.steps_run))
    assert np.array_equal([value for _, value in history], stored.expected.train_loss)


def test_a_converged_run_ends_with_final_metrics_diverged_0_and_its_outcome(quadratic):
    assert quadratic.run.info.status == "FINISHED"
    metrics = quadratic.run.data.metrics
    assert metrics[contract.FINAL_TRAIN_LOSS] == quadratic.expected.train_loss[-1]
    assert metrics[contract.DIVERGED_METRIC] == 0.0
    assert quadratic.run.data.tags[contract.OUTCOME] == CONVERGED
    assert not any(tag.startswith(contract.DIVERGENCE) for tag in quadratic.run.data.tags)
    assert quadratic.history(contract.VAL_LOSS) == []


def test_validation_metrics_are_logged_at_each_evaluation(digits):
    steps = [19, 39, 59, 79, 99]
    assert [e["step"] for e in digits.expected.evals] == steps
    for key in (contract.VAL_LOSS, contract.VAL_ACCURACY):
        assert digits.history(key) == [(e["step"], e[key]) for e in digits.expected.evals]
    metrics = digits.run.data.metrics
    assert metrics[contract.FINAL_VAL_LOSS] == digits.expected.evals[-1][contract.VAL_LOSS]
    assert metrics[contract.FINAL_VAL_ACCURACY] == digits.expected.evals[-1][contract.VAL_ACCURACY]
    assert metrics[contract.FINAL_TRAIN_LOSS] == digits.expected.train_loss[-1]
    assert metrics[contract.DIVERGED_METRIC] == 0.0


def test_a_diverged_run_is_tagged_with_its_step_and_reason(diverged):
    event = diverged.expected.divergence
    assert event is not None and "non-finite" in event.reason
    tags = diverged.run.data.tags
    assert tags[contract.OUTCOME] == DIVERGED
    assert tags[contract.DIVERGENCE_STEP] == str(event.step)
    assert tags[contract.DIVERGENCE_REASON] == event.reason
    assert diverged.run.data.metrics[contract.DIVERGED_METRIC] == 1.0
    assert diverged.run.info.status == "FINISHED"
    assert f"diverged at step {event.step}: {event.reason}" in diverged.done.stdout
    assert "RuntimeWarning" not in diverged.done.stderr


def test_each_run_carries_a_trial_id_tag_that_tells_configs_apart(quadratic, diverged):
    ids = [stored.run.data.tags.get(contract.TRIAL_ID) for stored in (quadratic, diverged)]
    assert all(ids), ids
    assert ids[0] != ids[1]


def test_a_diverged_run_logs_no_non_finite_metric_value(diverged):
    assert not math.isfinite(diverged.expected.divergence.value)
    for key in diverged.run.data.metrics:
        values = [value for _, value in diverged.history(key)]
        assert values and all(math.isfinite(value) for value in values), key


@pytest.mark.parametrize(
    ("name", "plots"),
    [
        ("quadratic", {contract.TRAJECTORY_FILE}),
        ("digits", set()),
        ("diverged", {contract.TRAJECTORY_FILE}),
    ],
)
def test_artifacts_are_the_config_the_curve_and_the_plots(request, tmp_path, name, plots):
    stored = request.getfixturevalue(name)
    assert stored.artifact_names() == {contract.CONFIG_FILE, contract.TRAIN_LOSS_FILE} | plots
    assert yaml.safe_load(stored.artifact(contract.CONFIG_FILE, tmp_path)) == stored.config
    for plot in plots:
        assert stored.artifact(plot, tmp_path).startswith(PNG)


def test_a_custom_optimizer_trains_with_tracking_none_and_writes_no_store(script_runs):
    launched = script_runs["custom_untracked"]
    done = launched.result()
    assert done.returncode == 0, done.stderr
    # sign-SGD at lr 0.25 from (-10, 1): y reaches 0 at step 4, x is -10 + 0.25 k at step k.
    x, y = -10.0 + 0.25 * 29, 0.0
    last = 0.5 * (x * x + 50.0 * y * y)
    assert "outcome: converged after 30 steps" in done.stdout
    assert f"{contract.FINAL_TRAIN_LOSS}: {last:.6g}\n" in done.stdout
    assert "logged run" not in done.stdout
    assert list(launched.cwd.iterdir()) == [] and list(launched.store.iterdir()) == []


def test_a_run_records_the_code_that_produced_it(quadratic):
    from trainer.tracking.provenance import code_fingerprint

    tags = quadratic.run.data.tags
    assert tags[contract.CODE_FINGERPRINT] == code_fingerprint([{}])
    assert {"version.python", "version.numpy", "version.mlflow"} <= set(tags)
