"""The local Ray a sweep starts: token authentication on, as the README's security notes say."""

import os
import subprocess
import sys

import pytest
from support import REPO

pytestmark = pytest.mark.slow  # a local Ray started in a new interpreter

# Start Ray the way the sweep does, then ask Ray itself whether it requires a token.
PROBE = """
from trainer.sweep.run.ray_setup import keep_local_ray_on_loopback
keep_local_ray_on_loopback("")
from trainer.sweep.run.cluster import connect
connect("", 1)
import ray
from ray._private.authentication.authentication_utils import is_token_auth_enabled
print("token auth:", is_token_auth_enabled())
ray.shutdown()
"""


def test_a_local_sweep_ray_requires_a_token(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "RAY_AUTH_MODE"}
    env["PYTHONPATH"] = str(REPO)
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr
    assert "token auth: True" in done.stdout
    # On by default, and said so explicitly: Ray prints no warning about deciding it.
    assert "Token authentication" not in done.stderr, done.stderr


# The driver loads the digits while Ray starts; a worker given them never imports scikit-learn.
HANDED_IN = """
import numpy as np
from trainer.config.compose import hydra_context
from trainer.sweep.plan.compose import compose_sweep
from trainer.sweep.run.ray_setup import keep_local_ray_on_loopback
from trainer.sweep.run.task_data import DriverLoadedData
from trainer.tasks.digits_mlp import DigitsMLP

with hydra_context() as loader:
    _, grid = compose_sweep(["trainer.steps=20", "optimizer.lr=0.01,0.1"], loader)
keep_local_ray_on_loopback("")
loading = DriverLoadedData(grid.trials)
from trainer.sweep.run.cluster import connect
connect("", 1)
import ray
shared = loading.shared()
dataset, key = DigitsMLP.dataset(grid.trials[0].config["task"])

@ray.remote(num_cpus=1)
def train(trials, shared):
    import sys
    from trainer.sweep.run.ray_tasks import train_trials
    results = train_trials(trials, vectorize=True, draw=False, shared=shared)
    return "sklearn" in sys.modules, dataset.made[key], [r.outcome for r in results]

imported, data, outcomes = ray.get(train.remote(grid.trials, shared))
print("scikit-learn imported in the worker:", imported)
print("the driver's data:", all(np.array_equal(a, b) for a, b in zip(data, dataset.made[key])))
print("outcomes:", sorted(set(outcomes)), len(outcomes))
ray.shutdown()
"""


def test_workers_train_on_the_data_the_driver_loaded_without_importing_scikit_learn(tmp_path):
    done = subprocess.run(
        [sys.executable, "-c", HANDED_IN],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr
    assert "scikit-learn imported in the worker: False" in done.stdout, done.stdout
    assert "the driver's data: True" in done.stdout, done.stdout
    assert "outcomes: ['converged'] 8" in done.stdout, done.stdout
