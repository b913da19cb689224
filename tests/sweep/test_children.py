"""A sweep's children read in bulk from a SQL store's tables agree with search_runs: sqlite, and
PostgreSQL (its types: integer experiment ids, NaN kept as a flag, infinities clamped)."""

import math

import pytest
from mlflow import MlflowClient
from mlflow.entities import Metric, Param, RunTag

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


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.slow)])
def store_uri(request):
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_store")  # a copy of the session's migrated store
    return request.getfixturevalue("postgres").database()


def test_bulk_read_matches_search_runs_field_for_field(store_uri):
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    client = MlflowClient(store_uri)
    assert isinstance(client._tracking_client.store, SqlAlchemyStore)  # read from the tables
    experiment_id = client.create_experiment("children")
    parent_id = client.create_run(experiment_id).info.run_id
    curves = [
        [("train_loss", 3.0, 0), ("train_loss", 1.5, 1)],  # the latest step is the one read
        [("train_loss", math.inf, 0), ("diverged", 1.0, 0), ("final_train_loss", -math.inf, 0)],
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
    # As MLflow's own entities have them: infinities stored as the largest floats, NaN as NaN.
    assert by_id[ids[1]].data.metrics["train_loss"] == 1.7976931348623157e308
    assert by_id[ids[1]].data.metrics["final_train_loss"] == -1.7976931348623157e308
    assert math.isnan(by_id[ids[2]].data.metrics["final_val_loss"])
