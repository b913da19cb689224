"""Boundary search: no boundary in range is a result, bad settings exit 2, adaptive methods."""

import pytest
from entry import run_main
from mlflow import MlflowClient
from support import children, parents, run_script, sqlite_uri, sweep_into


@pytest.mark.slow
@pytest.mark.usefixtures("sqlite_store")
def test_low_that_diverges_and_high_that_trains_are_results(tmp_path):
    # SGD's limit is 0.04 (below the bracket), heavy-ball m=0.9's is 0.076 (above it).
    done = run_script(
        "sweep.py",
        "sweep=boundary",
        "optimizer=sgd,momentum",
        "optimizer.momentum=0.9",
        "sweep.boundary.low=0.05",
        "sweep.boundary.high=0.06",
        "sweep.boundary.max_decades=0",
        "trainer.steps=300",
        "ray.num_cpus=2",
        f"tracking.uri={sqlite_uri(tmp_path)}",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert "sgd: diverges already at lr=0.05: lower sweep.boundary.low" in done.stdout
    assert "momentum: no divergence up to lr=0.06: raise sweep.boundary.high" in done.stdout
    client = MlflowClient(sqlite_uri(tmp_path))
    [parent] = parents(client)
    assert client.get_run(parent.info.run_id).info.status == "FINISHED"
    assert len(children(client, parent.info.run_id)) == 4


@pytest.mark.slow
@pytest.mark.usefixtures("sqlite_store")
def test_an_adaptive_optimizer_on_the_digits_mlp_is_measured(tmp_path):
    # Adam trains at lr=1 and diverges at lr=30 within 30 steps; one point, so 2 probes a round.
    done, client, parent = sweep_into(
        tmp_path,
        "sweep=digits_mlp",
        "sweep.search=boundary",
        "optimizer=adam",
        "sweep.boundary.low=1",
        "sweep.boundary.high=30",
        "sweep.boundary.rtol=0.2",
        "trainer.steps=30",
    )
    metrics = client.get_run(parent.info.run_id).data.metrics
    assert 1 < metrics["lr_star/adam"] < 30
    assert "lr_star_over_theory/adam" not in metrics
    runs = children(client, parent.info.run_id)
    assert len(runs) == metrics["probes"] <= 10
    assert {r.data.params["optimizer.name"] for r in runs} == {"adam"}
    assert "adam" in done.stdout


@pytest.mark.parametrize(
    "args, message",
    [
        (["sweep.boundary.rtol=0"], "sweep.boundary.rtol=0.0 is not allowed"),
        (["sweep.boundary.low=0.2"], "sweep.boundary.high=0.1 is not allowed"),
        (["sweep.boundary.max_decades=-1"], "sweep.boundary.max_decades=-1 is not allowed"),
        (["sweep.search=annealing"], "sweep.search=annealing is not allowed: choose one of grid"),
        (["optimizer.lr=0.1,0.2"], "sweep.search=boundary searches optimizer.lr itself"),
    ],
)
def test_bad_boundary_settings_exit_2_with_one_line(tmp_path, capfd, args, message):
    # Through the script's own entry point, in this process (entry.py).
    store = f"tracking.uri={sqlite_uri(tmp_path)}"
    done = run_main("sweep.py", "sweep=boundary", *args, store, cwd=tmp_path, capfd=capfd)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and message in done.stderr, done.stderr
    assert not list(tmp_path.iterdir())
