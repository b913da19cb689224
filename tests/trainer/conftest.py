"""Helpers for the trainer's tests: compose a run's config, run scripts/train.py as a user would.

Each `python scripts/train.py` costs seconds of imports, so the runs a test module declares in
`SCRIPT_RUNS` (name -> arguments) all start on a thread pool when the module's first test does,
in whichever process (pytest-xdist worker) runs the module; a test waits for its own run with
`script_runs[name].result()`. Each run gets a fresh, empty working directory `cwd` and a fresh
directory `store`, which `{store}` in an argument stands for (holding a copy of the session's
empty sqlite store when an argument names `{store}/mlflow.db`). tests/helpers is on their
PYTHONPATH (see `support.run_script`), so `custom_optimizers` imports there as a user's own
optimizer module would.
"""

import os
import subprocess
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from support import run_script

from trainer.config.compose import compose_config, hydra_context, to_plain, trial_config


def compose_plain(overrides) -> dict:
    """The whole composed config (optimizer, task, trainer, tracking) as plain containers."""
    with hydra_context():
        return to_plain(compose_config("train", list(overrides)))


def compose_trial(overrides) -> dict:
    """The config `train()` takes: the optimizer, task and trainer groups, plain."""
    return trial_config(compose_plain(overrides))


@pytest.fixture(scope="session")
def compose():
    return compose_trial


@dataclass
class Launched:
    cwd: Path
    store: Path
    future: Future

    def result(self) -> subprocess.CompletedProcess:
        return self.future.result()


class ScriptRuns(dict):
    """name -> Launched; `start(declared)` launches a module's runs on the pool."""

    def __init__(self, pool: ThreadPoolExecutor, tmp_path_factory, copy_store):
        super().__init__()
        self.pool, self.tmp_path_factory, self.copy_store = pool, tmp_path_factory, copy_store

    def start(self, declared: dict) -> None:
        for name, args in declared.items():
            folder = self.tmp_path_factory.mktemp(name)
            cwd, store = folder / "cwd", folder / "store"
            cwd.mkdir()
            store.mkdir()
            if any("{store}/mlflow.db" in arg for arg in args):
                self.copy_store(store)
            args = [arg.replace("{store}", str(store)) for arg in args]
            self[name] = Launched(
                cwd, store, self.pool.submit(run_script, "train.py", *args, cwd=cwd)
            )


@pytest.fixture(scope="session")
def script_runs(tmp_path_factory, copy_store):
    """The runs of the modules started so far, name -> Launched."""
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 1)) as pool:
        runs = ScriptRuns(pool, tmp_path_factory, copy_store)
        yield runs
        for run in runs.values():
            run.future.cancel()


@pytest.fixture(scope="module", autouse=True)
def module_runs(request):
    """A module's SCRIPT_RUNS, all started as its first test starts."""
    declared = getattr(request.module, "SCRIPT_RUNS", None)
    if declared:
        request.getfixturevalue("script_runs").start(declared)
