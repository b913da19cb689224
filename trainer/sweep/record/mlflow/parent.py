"""A sweep's parent run: found by sweep_id or created once, and what it says about its origin."""

import shlex
import sys

from mlflow import MlflowClient
from mlflow.tracking.context.registry import resolve_tags

from trainer import contract
from trainer.config.redact import mask_uri
from trainer.sweep.plan.grid import Grid
from trainer.tracking.provenance import provenance_tags

MAX_PARAM_LENGTH = 6000


def _oldest(client: MlflowClient, experiment_id: str, sweep_id: str) -> str | None:
    """The oldest parent run of `sweep_id`: the one every driver agrees on."""
    found = client.search_runs(
        [experiment_id],
        filter_string=f"tags.{contract.SWEEP_ID} = '{sweep_id}'",
        order_by=["attributes.start_time ASC"],
        max_results=20,
    )
    if not found:
        return None
    return min(found, key=lambda run: (run.info.start_time, run.info.run_id)).info.run_id


def find_or_create(client: MlflowClient, experiment_id: str, grid: Grid, sweep_name: str) -> str:
    """The parent run's id. Two drivers creating it at once both end up with the older one:
    the other deletes its own."""
    found = _oldest(client, experiment_id, grid.sweep_id)
    if found is not None:
        return found
    run = client.create_run(
        experiment_id,
        run_name=f"sweep {sweep_name}",
        tags={contract.SWEEP_ID: grid.sweep_id, contract.SWEEP_NAME: sweep_name},
    )
    params = {contract.SWEEP_NAME: sweep_name, contract.GRID_SIZE: str(len(grid.trials))}
    params.update({contract.AXIS + k: ",".join(v) for k, v in grid.axes.items()})
    params.update({contract.FIXED + k: v for k, v in grid.fixed.items()})
    for key, value in params.items():
        client.log_param(run.info.run_id, key, mask_uri(value)[:MAX_PARAM_LENGTH])
    oldest = _oldest(client, experiment_id, grid.sweep_id)
    if oldest != run.info.run_id:
        client.delete_run(run.info.run_id)
    return oldest


def note(run_id: str, pictures: list[str]) -> str:
    """The parent run's description (markdown, on its Overview tab): the sweep's pictures,
    drawn from the run's artifacts by the same server that shows the page."""
    return "\n\n".join(
        f"![{name}](get-artifact?path={name}&run_uuid={run_id})" for name in pictures
    )


def command_line() -> str:
    """The command that reproduces this sweep, credentials masked."""
    return mask_uri(shlex.join(["python", *sys.argv]))


def origin_tags(grid: Grid) -> dict[str, str]:
    """The parent's provenance (code of every trial), its description (the command line), and
    MLflow's system tags (user, source name and type, git commit) as its fluent API sets them."""
    system = {key: mask_uri(str(value)) for key, value in resolve_tags().items()}
    return {
        **system,
        **provenance_tags([trial.config for trial in grid.trials]),
        contract.NOTE: command_line(),
    }
