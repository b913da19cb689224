"""`python scripts/sweep.py sweep=boundary` on real Ray and sqlite: lr* against theory, resume."""

import csv
import re
import signal
import time

import pytest
from mlflow import MlflowClient
from support import children, parents, run_script, sqlite_uri
from sweep_process import SweepProcess

from trainer.config.compose import hydra_context, to_plain
from trainer.sweep.plan.searches.bisection import Settings, search_with
from trainer.sweep.plan.searches.boundary_search import EdgeOfStabilitySearch, probe_trial
from trainer.training.loop import train

pytestmark = pytest.mark.slow  # scripts/sweep.py launched four times on Ray

ARGS = ["sweep=boundary", "ray.num_cpus=2"]
POINTS = 7  # sgd, and momentum and nesterov at m = 0, 0.5, 0.9


def read_csv(client: MlflowClient, run_id: str, folder) -> list[dict]:
    path = client.download_artifacts(run_id, "boundary.csv", str(folder))
    with open(path) as handle:
        return list(csv.DictReader(handle))


def uninterrupted_lr_stars() -> dict[str, str]:
    """The same search, in this process, asking `train` directly: what every run must give."""
    from trainer.config.compose import compose_config

    with hydra_context() as loader:
        session = to_plain(compose_config("sweep", ["sweep=boundary"]))
        grid = EdgeOfStabilitySearch.expand(session["sweep"], [], loader)
    settings = Settings.from_config(session["sweep"]["boundary"])

    def oracle(probe):
        return train(probe_trial(grid.trials[probe.point], probe.lr).config).outcome

    search = search_with(oracle, len(grid.trials), settings, cpus=2)
    return {repr(point.lr_star) for point in search.points}


@pytest.fixture(scope="module")
def searched(tmp_path_factory, copy_store):
    """A search stopped after 3 rounds, continued and interrupted by Ctrl-C in round 6, resumed
    by the same command to the end, then run once more."""
    folder = tmp_path_factory.mktemp("boundary")
    uri = f"tracking.uri={copy_store(folder)}"
    capped = run_script(
        "sweep.py", *ARGS, uri, "sweep.boundary.max_rounds=3", cwd=folder, check=True
    )
    client = MlflowClient(sqlite_uri(folder))
    [parent] = parents(client)
    after_cap = children(client, parent.info.run_id)
    interrupted = SweepProcess([*ARGS, uri], cwd=folder)
    deadline = time.monotonic() + 300
    while "round 5:" not in interrupted.output() and time.monotonic() < deadline:
        time.sleep(0.1)
    interrupted.process.send_signal(signal.SIGINT)
    assert interrupted.wait() == 130, interrupted.output()
    resumed = run_script("sweep.py", *ARGS, uri, cwd=folder, check=True)
    after_resume = children(client, parent.info.run_id)
    first_csv = read_csv(client, parent.info.run_id, folder / "first")
    again = run_script("sweep.py", *ARGS, uri, cwd=folder, check=True)
    return {
        "folder": folder,
        "client": client,
        "parent": parent.info.run_id,
        "outputs": (capped.stdout, interrupted.output(), resumed.stdout, again.stdout),
        "after_cap": after_cap,
        "after_resume": after_resume,
        "first_csv": first_csv,
    }


def test_lr_star_agrees_with_the_iteration_matrix_within_rtol_in_at_most_10_probes(searched):
    rows = searched["first_csv"]
    assert len(rows) == POINTS
    for row in rows:
        assert row["status"] == "found"
        assert int(row["probes"]) <= 10, row
        assert abs(float(row["lr_star"]) / float(row["theory"]) - 1) <= 0.02, row
        assert float(row["low"]) <= float(row["lr_star"]) <= float(row["high"])
        assert (float(row["high"]) - float(row["low"])) / float(row["low"]) <= 0.02
    metrics = searched["client"].get_run(searched["parent"]).data.metrics
    assert metrics["lr_star/momentum m:0.9"] == pytest.approx(3.8 / 50, rel=0.02)
    assert metrics["probes"] == sum(int(row["probes"]) for row in rows)


def test_capped_and_interrupted_search_resumed_ends_where_an_uninterrupted_one_does(searched):
    capped, interrupted, resumed, _ = searched["outputs"]
    assert "stopped at sweep.boundary.max_rounds after round 3" in capped
    assert "interrupted in round 6" in interrupted
    # Each run reads the rounds done before back and trains none of them again.
    for line in re.findall(r"^round [123]: .*$", interrupted, flags=re.M):
        assert "(0 trained)" in line
    for line in re.findall(r"^round [12345]: .*$", resumed, flags=re.M):
        assert "(0 trained)" in line
    assert {row["lr_star"] for row in searched["first_csv"]} == uninterrupted_lr_stars()
    before = {r.info.run_id for r in searched["after_cap"]}
    assert before < {r.info.run_id for r in searched["after_resume"]}


def test_every_probe_is_one_child_tagged_with_its_round_and_bracket(searched):
    runs = searched["after_resume"]
    assert len(runs) == sum(int(row["probes"]) for row in searched["first_csv"])
    assert len({r.data.tags["trial_id"] for r in runs}) == len(runs)
    rounds = set()
    for run in runs:
        tags, lr = run.data.tags, float(run.data.params["optimizer.lr"])
        assert float(tags["boundary.low"]) <= lr <= float(tags["boundary.high"])
        assert run.data.tags["outcome"] in ("converged", "diverged")
        rounds.add(int(tags["boundary.round"]))
    assert rounds == set(range(1, max(rounds) + 1))


def test_same_command_again_trains_nothing_and_gives_the_same_lr_star(searched):
    _, _, resumed, again = searched["outputs"]
    assert re.findall(r"^round \d+: .*$", again, flags=re.M)
    assert all("(0 trained)" in line for line in re.findall(r"^round \d+: .*$", again, flags=re.M))
    table = re.compile(r"^(\S+(?: m=\S+)?)\s+(\S+)\s+\[", flags=re.M)
    assert table.findall(again) == table.findall(resumed)
    client, parent = searched["client"], searched["parent"]
    assert {r.info.run_id for r in children(client, parent)} == {
        r.info.run_id for r in searched["after_resume"]
    }
    assert read_csv(client, parent, searched["folder"] / "again") == searched["first_csv"]
    assert [p.info.run_id for p in parents(client)] == [parent]
    files = {a.path for a in client.list_artifacts(parent)}
    assert {"boundary.png", "boundary.csv", "summary.txt"} <= files
