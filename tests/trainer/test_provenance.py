"""Which code produced a run: the fingerprint follows a user's own module, git and versions."""

import importlib.metadata
import os
import platform
import shutil
import subprocess
import sys

import pytest
from omegaconf import OmegaConf

from trainer.tracking import provenance
from trainer.tracking.provenance import (
    PROJECT,
    code_fingerprint,
    packages_fingerprint,
    provenance_tags,
)

PROJECT_ONLY = {
    "optimizer": {"_target_": "optimizers.Adam", "_partial_": True, "lr": 0.1},
    "task": {"_target_": "trainer.tasks.quadratic.Quadratic"},
    "trainer": {"steps": 5},
}
RULE = """
import numpy as np
from optimizers import Optimizer


class Shrink(Optimizer):
    def update(self, theta, g, state):
        theta -= {step} * self.lr * g
"""


@pytest.fixture
def users_module(tmp_path, monkeypatch):
    """Writes `shrink_opt.py` (its update scaled by `step`) in a folder on sys.path."""
    monkeypatch.syspath_prepend(str(tmp_path))

    def write(step: float):
        (tmp_path / "shrink_opt.py").write_text(RULE.format(step=step))
        return {**PROJECT_ONLY, "optimizer": {"_target_": "shrink_opt.Shrink", "lr": 0.1}}

    yield write
    sys.modules.pop("shrink_opt", None)


def test_changing_one_line_of_a_users_optimizer_changes_the_fingerprint(users_module):
    before = code_fingerprint([users_module(1.0)])
    assert code_fingerprint([users_module(1.0)]) == before
    assert code_fingerprint([users_module(2.0)]) != before


@pytest.mark.slow  # a second interpreter
def test_the_same_sources_give_the_same_fingerprint_in_another_process():
    script = (
        "from trainer.tracking.provenance import code_fingerprint;"
        f"print(code_fingerprint([{PROJECT_ONLY!r}]))"
    )
    printed = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert printed == code_fingerprint([PROJECT_ONLY])
    assert len(printed) == 16 and int(printed, 16) >= 0


def test_a_config_naming_only_project_classes_has_the_project_fingerprint(users_module):
    other_task = {**PROJECT_ONLY, "task": {"_target_": "trainer.tasks.rosenbrock.Rosenbrock"}}
    project = code_fingerprint([])
    assert code_fingerprint([PROJECT_ONLY]) == code_fingerprint([other_task]) == project
    assert code_fingerprint([PROJECT_ONLY, users_module(1.0)]) != project
    assert project == code_fingerprint([{"trainer": {"steps": 1}}])
    nested_user_target = OmegaConf.create({"axes": [[users_module(1.0)]]})
    assert code_fingerprint([nested_user_target]) == code_fingerprint([users_module(1.0)])
    assert len(packages_fingerprint()) == 64


def test_provenance_tags_name_the_code_git_state_and_versions(users_module):
    config = users_module(1.0)
    tags = provenance_tags([config])
    assert tags["code.fingerprint"] == code_fingerprint([config])
    assert tags["version.python"] == platform.python_version()
    for package in ("numpy", "ray", "mlflow"):
        assert tags[f"version.{package}"] == importlib.metadata.version(package)
    commit = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=PROJECT, capture_output=True, text=True, check=True
    ).stdout.strip()
    assert tags["code.git_commit"] == commit
    assert tags["code.git_dirty"] in ("true", "false")
    assert all(isinstance(value, str) for value in tags.values())


@pytest.mark.slow  # an interpreter without git, or without the repository
@pytest.mark.parametrize("missing", ["git", "repository"])
def test_without_git_or_a_repository_the_git_tags_are_left_out(tmp_path, missing):
    script = (
        "import trainer.tracking.provenance as p;"
        "tags = p.provenance_tags([]);"
        "print(sorted(k for k in tags if k.startswith('code.')))"
    )
    env = {"PYTHONPATH": os.pathsep.join(sys.path)}
    if missing == "git":
        env["PATH"] = str(tmp_path)
    else:
        env.update(PATH=os.environ["PATH"], GIT_DIR=str(tmp_path / "no-repository"))
    printed = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, env=env
    ).stdout.strip()
    assert printed == "['code.fingerprint']"


@pytest.mark.parametrize(
    ("edited", "retrains"),
    [
        ("autodiff/ops.py", True),
        ("optimizers/momentum.py", True),
        ("trainer/tasks/quadratic.py", True),
        ("trainer/training/loop.py", True),
        ("trainer/sweep/run/loop.py", False),
        ("trainer/sweep/record/spool.py", False),
        ("trainer/sweep/report/heatmap.py", False),
        ("trainer/config/preflight.py", False),
        ("trainer/tracking/run_record.py", False),
    ],
)
def test_the_fingerprint_covers_what_computes_a_trial_and_not_the_engine(
    tmp_path, monkeypatch, edited, retrains
):
    project = tmp_path / "project"
    for package in ("autodiff", "optimizers", "trainer"):
        shutil.copytree(provenance.PROJECT / package, project / package)
    monkeypatch.setattr(provenance, "PROJECT", project)
    provenance.read_anew()
    try:
        before = provenance.packages_fingerprint()
        with open(project / edited, "a") as source:
            source.write("\n# an edit\n")
        provenance.read_anew()
        after = provenance.packages_fingerprint()
    finally:
        monkeypatch.undo()
        provenance.read_anew()
    assert (after != before) == retrains
