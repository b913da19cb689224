"""Every search without a store, and interrupted then resumed: real Ray, a real sqlite store."""

import pytest
from entry import run_main
from mlflow import MlflowClient
from support import children, parents, run_script, sqlite_uri
from sweep_process import SweepProcess

from trainer import contract

pytestmark = pytest.mark.slow

SPACE = [
    "task=quadratic",
    "optimizer=momentum",
    "optimizer.lr=tag(log, interval(1e-3, 1))",
    "optimizer.momentum=interval(0, 0.95)",
    "trainer.steps=200",
    "ray.num_cpus=2",
]


def the_children(client):
    [parent] = parents(client)
    return parent, children(client, parent.info.run_id)


@pytest.mark.parametrize(
    "args",
    [
        [*SPACE, "sweep.search=random", "sweep.n_trials=4"],
        [*SPACE, "sweep.search=sobol", "sweep.n_trials=4"],
        [*SPACE, "sweep.search=tpe", "sweep.n_trials=4"],
        [*SPACE, "sweep.search=halving", "sweep.n_trials=4"],
        ["sweep.search=lr_range", "task=quadratic", "trainer.steps=100", "ray.num_cpus=2"],
    ],
    ids=["random", "sobol", "tpe", "halving", "lr_range"],
)
def test_every_search_runs_with_tracking_none_and_writes_nothing(tmp_path, capfd, args):
    # Through the script's own entry point, in this process (entry.py): one Ray start less.
    done = run_main("sweep.py", *args, "tracking=none", cwd=tmp_path, capfd=capfd)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "tracking=none: nothing was recorded" in done.stdout
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("search", ["tpe", "halving"])
def test_an_interrupted_search_resumes_and_records_each_trial_once(tmp_path, search):
    args = [
        *SPACE[:4],
        "trainer.steps=50000",
        "ray.num_cpus=2",
        f"sweep.search={search}",
        "sweep.n_trials=8",
        f"tracking.uri={sqlite_uri(tmp_path)}",
    ]
    SweepProcess(args, tmp_path).interrupt_after(2)
    client = MlflowClient(sqlite_uri(tmp_path))
    before = {r.data.tags[contract.TRIAL_ID] for r in the_children(client)[1]}
    run_script("sweep.py", *args, cwd=tmp_path, check=True, timeout=400)
    parent, runs = the_children(client)
    trial_ids = [r.data.tags[contract.TRIAL_ID] for r in runs]
    assert len(trial_ids) == len(set(trial_ids)) == 8
    assert before <= set(trial_ids)
    assert client.get_run(parent.info.run_id).info.status == "FINISHED"
