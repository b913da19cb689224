"""Every search from the command line: real Ray, a real sqlite store, read back."""

import math

import pytest
from mlflow import MlflowClient
from support import children, parents, run_script, sqlite_uri

from trainer import contract
from trainer.config.compose import compose_config, hydra_context, to_plain, trial_config
from trainer.training.loop import train

pytestmark = pytest.mark.slow

SPACE = [
    "task=quadratic",
    "optimizer=momentum",
    "optimizer.lr=tag(log, interval(1e-3, 1))",
    "optimizer.momentum=interval(0, 0.95)",
    "trainer.steps=200",
    "ray.num_cpus=2",
]


def sweep(folder, *args: str):
    """The sweep into a sqlite store in `folder`, which must succeed; its output and a client."""
    uri = sqlite_uri(folder)
    done = run_script("sweep.py", *args, f"tracking.uri={uri}", cwd=folder, check=True)
    return done, MlflowClient(uri)


def the_children(client):
    [parent] = parents(client)
    return parent, children(client, parent.info.run_id)


def values(runs, key: str) -> list[float]:
    return sorted(float(run.data.params[key]) for run in runs)


@pytest.mark.parametrize(("search", "n"), [("sobol", 16), ("random", 24)])
def test_a_sampled_search_proposes_the_same_trials_again_and_a_rerun_has_nothing_to_do(
    tmp_path, search, n
):
    args = [*SPACE, f"sweep.search={search}", f"sweep.n_trials={n}"]
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    _, client = sweep(tmp_path / "a", *args)
    parent, runs = the_children(client)
    assert len(runs) == n and {r.info.status for r in runs} == {"FINISHED"}
    lrs, momenta = values(runs, "optimizer.lr"), values(runs, "optimizer.momentum")
    assert all(1e-3 <= lr <= 1 for lr in lrs) and all(0 <= m <= 0.95 for m in momenta)
    assert len({math.floor(math.log10(lr)) for lr in lrs}) >= 2
    assert contract.SEARCH_FILE in {f.path for f in client.list_artifacts(parent.info.run_id)}
    if search == "sobol":  # random's draws repeat as Sobol's do (tests/sweep/test_searches.py)
        # The same command on a fresh store proposes the same points.
        _, fresh = sweep(tmp_path / "b", *args)
        _, fresh_runs = the_children(fresh)
        assert values(fresh_runs, "optimizer.lr") == lrs
    again, _ = sweep(tmp_path / "a", *args)
    assert f"{n} already done, 0 to run" in again.stdout
    assert len(the_children(client)[1]) == n


def test_tpe_finishes_its_budget_with_diverged_trials_recorded_as_diverged(tmp_path):
    args = [*SPACE, "sweep.search=tpe", "sweep.n_trials=24"]
    _, client = sweep(tmp_path, *args)
    parent, runs = the_children(client)
    assert len(runs) == 24
    outcomes = [run.data.tags[contract.OUTCOME] for run in runs]
    assert "diverged" in outcomes and "converged" in outcomes
    diverged = [r for r in runs if r.data.tags[contract.OUTCOME] == "diverged"]
    assert all(contract.DIVERGENCE_STEP in r.data.tags for r in diverged)
    assert {r.data.tags["tpe.number"] for r in runs} == {str(i) for i in range(24)}
    again, _ = sweep(tmp_path, *args)
    assert "24 already done" in again.stdout and len(the_children(client)[1]) == 24


def test_halving_trains_rungs_from_checkpoints_and_its_winner_equals_a_fresh_full_run(tmp_path):
    args = [*SPACE, "sweep.search=halving", "sweep.n_trials=16", "sweep.halving.eta=2"]
    _, client = sweep(tmp_path, *args)
    parent, runs = the_children(client)
    assert len(runs) == 16
    steps = [int(r.data.params["trainer.steps"]) for r in runs]
    assert set(steps) <= {25, 50, 100, 200} and len(set(steps)) > 1
    assert {r.data.tags["halving.rung"] for r in runs} <= {"0", "1", "2", "3"}
    assert sum(steps) <= 16 * 200 / 2  # each step trained once, survivors resumed
    full = [r for r in runs if r.data.params["trainer.steps"] == "200"]
    winner = min(full, key=lambda r: r.data.metrics[contract.FINAL_TRAIN_LOSS])
    overrides = [
        "task=quadratic",
        "optimizer=momentum",
        f"optimizer.lr={winner.data.params['optimizer.lr']}",
        f"optimizer.momentum={winner.data.params['optimizer.momentum']}",
        "trainer.steps=200",
    ]
    with hydra_context():
        fresh = train(trial_config(to_plain(compose_config("train", overrides))))
    final = winner.data.metrics[contract.FINAL_TRAIN_LOSS]
    assert final == pytest.approx(fresh.final[contract.FINAL_TRAIN_LOSS], rel=1e-12)


def test_the_range_test_logs_its_figure_and_a_rate_below_the_theoretical_limit(tmp_path):
    sweep(tmp_path, "sweep.search=lr_range", "task=quadratic", "optimizer=sgd", "trainer.steps=500")
    client = MlflowClient(sqlite_uri(tmp_path))
    parent, [run] = the_children(client)
    metrics = client.get_run(parent.info.run_id).data.metrics
    [suggested] = [v for k, v in metrics.items() if k.startswith("lr_suggested/")]
    assert 0 < suggested < 2 / 50.0  # the bowl's lambda_max is a * condition = 50
    assert contract.LR_RANGE_FILE in {f.path for f in client.list_artifacts(parent.info.run_id)}


def test_a_continuous_range_on_a_grid_exits_2_with_one_line_and_writes_nothing(tmp_path):
    done = run_script("sweep.py", "task=quadratic", "optimizer.lr=interval(0.001, 1)", cwd=tmp_path)
    assert done.returncode == 2
    [line] = done.stderr.strip().splitlines()
    assert "sweep.search=random" in line and "sweep.search=tpe" in line
    assert list(tmp_path.iterdir()) == []
