"""A sweep's trials read back from its parent run, whichever form holds them (tracking.children)."""

from mlflow import MlflowClient

from trainer import contract
from trainer.sweep.record.children import child_runs
from trainer.sweep.record.mlflow.table_runs import current, read_parts


def recorded_trials(client: MlflowClient, parent_run) -> list:
    """The trials that count of the sweep whose parent run is `parent_run` (an MLflow Run):
    each shaped as MLflow's Run (`info.run_name`, `info.status`, `data.tags`, `data.params`,
    `data.metrics`: its final metrics), from its child runs or from its table's parts; none
    superseded by a change of code."""
    parent_id = parent_run.info.run_id
    if parent_run.data.tags.get(contract.RECORD_FORM) == contract.TABLE:
        trials, _ = read_parts(client, parent_id)
        return list(current(trials).values())
    runs = child_runs(client, parent_run.info.experiment_id, parent_id)
    return [run for run in runs if run.data.tags.get(contract.SUPERSEDED) != "true"]
