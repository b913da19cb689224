"""Helpers for the trainer's tests: compose a run's config, run scripts/train.py as a user would.

Each `python scripts/train.py` costs seconds of imports, so the runs a test module declares in
`SCRIPT_RUNS` (name -> arguments) start on a thread pool when the session starts and overlap the
in-process tests; a test waits for its own run with `script_runs[name].result()`. Each run gets a
fresh, empty working directory `cwd` and a fresh directory `store`, which `{store}` in an
argument stands for (holding a copy of the session's empty sqlite store when an argument names
`{store}/mlflow.db`). tests/helpers is on their PYTHONPATH (see `support.run_script`), so
`custom_optimizers` imports there as a user's own optimizer module would.
"""

import os
import subprocess
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from support import run_script

from trainer.config import compose_config, hydra_context, to_plain, trial_config

HERE = Path(__file__).resolve().parent


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


@pytest.fixture(scope="session", autouse=True)
def script_runs(request, tmp_path_factory):
    """Starts the runs every collected test module declares; name -> Launched. A run whose
    tracking.uri is `{store}/mlflow.db` finds there a copy of the session's empty store."""
    modules = {item.module for item in request.session.items if item.path.parent == HERE}
    declared = {}
    for module in sorted(modules, key=lambda m: m.__name__):
        declared.update(getattr(module, "SCRIPT_RUNS", {}))
    launched = {}
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 1)) as pool:
        for name, args in declared.items():
            folder = tmp_path_factory.mktemp(name)
            cwd, store = folder / "cwd", folder / "store"
            cwd.mkdir()
            store.mkdir()
            if any("{store}/mlflow.db" in arg for arg in args):
                request.getfixturevalue("copy_store")(store)
            args = [arg.replace("{store}", str(store)) for arg in args]
            future = pool.submit(run_script, "train.py", *args, cwd=cwd)
            launched[name] = Launched(cwd, store, future)
        yield launched
        for run in launched.values():
            run.future.cancel()
