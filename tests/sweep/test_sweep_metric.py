"""`sweep.metric` and `sweep.mode` through the real command: the table, the parent's best_*."""

import math

import pytest
from mlflow import MlflowClient
from support import children, parents, run_script, sqlite_uri

from trainer import contract

pytestmark = pytest.mark.slow  # scripts/sweep.py launched on Ray

# The default sweep (the digits MLP, which has validation data) on a small grid.
ARGS = [
    "optimizer.lr=0.003,0.03,0.3,30",
    "optimizer.momentum=0,0.9",
    "trainer.steps=60",
    "trainer.eval_every=30",
    "ray.num_cpus=2",
]


def ranked_table(stdout: str, metric: str) -> list[tuple[str, dict[str, float]]]:
    """The printed best trials: (run name, {column: value}) in printed order."""
    lines = stdout.splitlines()
    start = lines.index(next(line for line in lines if line.startswith("best trials by")))
    assert lines[start] == f"best trials by {metric} ({'max' if 'accuracy' in metric else 'min'}):"
    columns = lines[start + 1].split()
    rows = []
    for line in lines[start + 2 :]:
        cells = line.split()
        if len(cells) < len(columns) + 1 or line.startswith(("diverged:", "logging")):
            break
        values = dict(zip(columns, map(float, cells[-len(columns) :]), strict=True))
        rows.append((" ".join(cells[: -len(columns)]), values))
    return rows


@pytest.fixture(scope="module")
def sweep(tmp_path_factory, copy_store):
    folder = tmp_path_factory.mktemp("metric")
    uri = copy_store(folder)
    done = run_script("sweep.py", *ARGS, f"tracking.uri={uri}", cwd=folder, check=True)
    client = MlflowClient(uri)
    [parent] = parents(client)
    return folder, client, parent.info.run_id, done


def test_default_sweep_ranks_by_final_val_loss(sweep):
    _, client, parent_id, done = sweep
    runs = children(client, parent_id)
    converged = {r.info.run_name: r for r in runs if r.data.tags["outcome"] == "converged"}
    printed = ranked_table(done.stdout, "final_val_loss")
    expected = sorted(converged, key=lambda name: converged[name].data.metrics["final_val_loss"])
    assert [name for name, _ in printed] == expected[:5]
    for name, values in printed:
        logged = converged[name].data.metrics
        assert values["final_val_loss"] == pytest.approx(logged["final_val_loss"], rel=1e-5)

    parent = client.get_run(parent_id).data
    val_losses = [r.data.metrics["final_val_loss"] for r in converged.values()]
    train_losses = [r.data.metrics["final_train_loss"] for r in converged.values()]
    assert parent.metrics["best_final_val_loss"] == min(val_losses)
    assert parent.metrics["best_final_loss"] == min(train_losses)
    assert (parent.tags["sweep.metric"], parent.tags["sweep.mode"]) == ("final_val_loss", "min")


def test_children_carry_log10_lr(sweep):
    _, client, parent_id, _ = sweep
    for run in children(client, parent_id):
        lr = float(run.data.params["optimizer.lr"])
        assert float(run.data.params[contract.LOG10_LR]) == pytest.approx(math.log10(lr), abs=1e-3)


def test_another_metric_reranks_the_finished_sweep(sweep):
    """The metric is not part of the grid: the rerun resumes the same sweep, reranked."""
    folder, client, parent_id, _ = sweep
    done = run_script(
        "sweep.py",
        *ARGS,
        "sweep.metric=final_val_accuracy",
        f"tracking.uri={sqlite_uri(folder)}",
        cwd=folder,
        check=True,
    )
    assert "8 already done, 0 to run" in done.stdout
    printed = ranked_table(done.stdout, "final_val_accuracy")
    accuracies = [values["final_val_accuracy"] for _, values in printed]
    assert accuracies == sorted(accuracies, reverse=True) and len(accuracies) >= 2
    parent = client.get_run(parent_id).data
    best = max(
        r.data.metrics["final_val_accuracy"]
        for r in children(client, parent_id)
        if r.data.tags["outcome"] == "converged"
    )
    assert parent.metrics["best_final_val_accuracy"] == best
    assert (parent.tags["sweep.metric"], parent.tags["sweep.mode"]) == ("final_val_accuracy", "max")
