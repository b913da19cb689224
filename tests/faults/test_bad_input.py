"""Wrong input: one clear line, exit code 2, before Ray starts or the store is touched."""

import hashlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from mlflow import MlflowClient
from support import free_port, run_script, sqlite_uri

CLOSED = free_port()
# (overrides, what the one line must name); {store} is this test's sqlite store.
CASES = [
    (["optimizer.lr=0"], "optimizer.lr=0"),
    (["optimizer.lr=-0.5"], "optimizer.lr=-0.5"),
    (["optimizer.momentum=-0.1"], "optimizer.momentum=-0.1"),
    (["optimizer.momentum=1.0"], "optimizer.momentum=1.0"),
    (["optimizer=rmsprop", "optimizer.rho=1.5"], "optimizer.rho=1.5"),
    (["optimizer=adagrad", "optimizer.delta=0"], "optimizer.delta=0"),
    (["trainer.steps=0"], "trainer.steps=0"),
    (["trainer.batch_size=5000"], "trainer.batch_size=5000"),
    (["optimizer=lbfgs"], "optimizer=lbfgs"),
    (["task=mnist"], "task=mnist"),
    (["optimizer.lr=range(1,1)"], "optimizer.lr"),
    (["optimizer.lr=0.1,fast"], "optimizer.lr=fast"),
    (["optimizer.lr=[0.1"], "optimizer.lr=[0.1"),
    (["trainer.patience=3"], "trainer.patience"),
    (["optimizer.momentum=0.5,0.9,0.5"], "optimizer.momentum"),
    (["tracking.uri=sqlite:///{store}/not-a-dir/mlflow.db"], "tracking.uri="),
    (["tracking.uri=sqlite:///{store}"], "is a directory"),
    (["tracking.uri=file:///tmp/mlruns"], "tracking.uri=file:///tmp/mlruns"),
    ([f"tracking.uri=http://127.0.0.1:{CLOSED}"], f"tracking.uri=http://127.0.0.1:{CLOSED}"),
    ([f"ray.address=127.0.0.1:{CLOSED}"], f"ray.address=127.0.0.1:{CLOSED}"),
    (["ray.address=nowhere"], "ray.address=nowhere"),
    (["sweep.metric=final_bogus"], "sweep.metric=final_bogus"),
    (["sweep.mode=median"], "sweep.mode=median"),
    # The default sweep ranks by final_val_loss: a loss is best at its minimum.
    (["sweep.mode=max"], "sweep.mode=max"),
    (["sweep=quadratic", "sweep.metric=final_val_loss"], "no validation data"),
]


def fingerprint(folder: Path) -> dict:
    return {
        p.relative_to(folder): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def ray_sessions() -> set:
    return set(Path("/tmp/ray").glob("session_*"))


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory):
    """Every case run once, four at a time, against a store that already exists."""
    folder = tmp_path_factory.mktemp("bad-input")
    (folder / "not-a-dir").write_text("a file where a directory should be")
    MlflowClient(sqlite_uri(folder)).create_experiment("gradsweep")
    before, sessions = fingerprint(folder), ray_sessions()

    def run(case):
        overrides = [o.format(store=folder) for o in case[0]]
        uri = (
            []
            if any(o.startswith("tracking.uri") for o in overrides)
            else [f"tracking.uri={sqlite_uri(folder)}"]
        )
        return run_script("sweep.py", *overrides, *uri, cwd=folder, timeout=120)

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(run, CASES))
    return results, before, fingerprint(folder), sessions, ray_sessions()


@pytest.mark.parametrize("index", range(len(CASES)), ids=[" ".join(c[0]) for c in CASES])
def test_bad_input_is_one_line_and_exit_code_2(outcomes, index):
    results, *_ = outcomes
    done, (_, named) = results[index], CASES[index]
    assert done.returncode == 2, done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    assert named in lines[0]
    assert "Traceback" not in done.stdout + done.stderr


def test_nothing_was_written_and_no_ray_started(outcomes):
    _, before, after, sessions_before, sessions_after = outcomes
    assert after == before
    assert sessions_after == sessions_before
