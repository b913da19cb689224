"""A sweep's children read in bulk from a sqlite store's tables agree with search_runs."""

import math

import pytest
from mlflow import MlflowClient
from mlflow.entities import Metric, Param, RunTag
from support import sqlite_uri

from trainer import contract
from trainer.sweep.record.children import child_runs, searched


def log_child(client, experiment_id, parent_id, index, metrics):
    run = client.create_run(
        experiment_id,
        run_name=f"trial {index}",
        tags={contract.PARENT_RUN_ID: parent_id, contract.TRIAL_ID: f"t{index}"},
    )
    client.log_batch(
        run.info.run_id,
        metrics=[Metric(key, value, 0, step) for key, value, step in metrics],
        params=[Param("optimizer.lr", str(0.1 * index))],
        tags=[RunTag(contract.OUTCOME, "converged")],
    )
    return run.info.run_id


def comparable(run) -> tuple:
    metrics = {k: "nan" if math.isnan(v) else v for k, v in run.data.metrics.items()}
    info = (run.info.run_id, run.info.run_name, run.info.status)
    return info, run.data.tags, run.data.params, metrics


@pytest.mark.usefixtures("sqlite_store")
def test_bulk_read_matches_search_runs_field_for_field(tmp_path):
    client = MlflowClient(sqlite_uri(tmp_path))
    experiment_id = client.create_experiment("children")
    parent_id = client.create_run(experiment_id).info.run_id
    curves = [
        [("train_loss", 3.0, 0), ("train_loss", 1.5, 1)],  # the latest step is the one read
        [("train_loss", math.inf, 0), ("diverged", 1.0, 0)],  # stored as the largest float
        [("final_val_loss", math.nan, 0)],
        [],
    ]
    ids = [log_child(client, experiment_id, parent_id, i, m) for i, m in enumerate(curves)]
    client.set_terminated(ids[0], "FINISHED")
    client.set_terminated(ids[1], "FAILED")
    client.delete_run(ids[3])  # deleted: not a child any more
    other_parent = client.create_run(experiment_id).info.run_id
    log_child(client, experiment_id, other_parent, 9, [("train_loss", 1.0, 0)])

    bulk = child_runs(client, experiment_id, parent_id)
    found = searched(client, experiment_id, f"tags.`{contract.PARENT_RUN_ID}` = '{parent_id}'")
    assert sorted(run.info.run_id for run in bulk) == sorted(ids[:3])
    assert [comparable(run) for run in bulk] == [comparable(run) for run in found]
    by_id = {run.info.run_id: run for run in bulk}
    assert by_id[ids[0]].data.metrics["train_loss"] == 1.5
    assert by_id[ids[1]].info.status == "FAILED"
