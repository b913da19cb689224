"""Sweeps from Python: run one from overrides, or load a finished one, as a table of rows."""

import contextlib
import csv
import io
import math
import os
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy

from trainer.config.compose import hydra_context
from trainer.config.errors import ConfigError
from trainer.config.preflight import check_session
from trainer.config.redact import mask_uri
from trainer.config.uri import resolve_uri, sqlite_path
from trainer.contract import FINAL_KEYS, FINAL_TRAIN_LOSS
from trainer.sweep.context import SweepContext
from trainer.sweep.plan.compose import compose_sweep
from trainer.sweep.plan.grid import Grid
from trainer.sweep.plan.ranking import Ranking, choose_ranking
from trainer.sweep.record.rows import Row
from trainer.sweep.record.store_process import ProcessBackend, open_in_background, start_early
from trainer.sweep.run.ray_setup import RAY_ADDRESS, keep_local_ray_on_loopback, ray_address
from trainer.tracking.provenance import PROJECT, read_anew

SWEEP_SCRIPT = PROJECT / "scripts" / "sweep.py"
FINISHED, SPOOLED, INTERRUPTED, DRY_RUN = "finished", "spooled", "interrupted", "dry_run"
STATUS = {0: FINISHED, 1: SPOOLED, 130: INTERRUPTED}


@dataclass
class SweepResult:
    """A sweep's parent run and one row per trial (a plain dict: run_name, trial_id, outcome,
    final_* (None where missing or not finite), divergence_step, wall_time, and the trial's
    config keys such as optimizer.lr)."""

    parent_run_id: str | None
    rows: list[dict] = field(default_factory=list)
    status: str = FINISHED  # or spooled (run it again to log), interrupted, dry_run
    code: int = 0  # the command line's exit code for this status
    # One dict per configuration (trials that differ only by seed), best first: as configs.csv.
    configs: list[dict] = field(default_factory=list)

    def table(self):
        """The rows as a pandas DataFrame where pandas is installed (MLflow brings it), else
        the list of dicts itself."""
        try:
            import pandas
        except ImportError:
            return self.rows
        return pandas.DataFrame(self.rows)


def run_sweep(overrides: Sequence[str] = ()) -> SweepResult:
    """Run a sweep as `python scripts/sweep.py OVERRIDE ...` does, and return its rows.

    A mistake in the overrides raises ConfigError before anything starts. The parent run's
    description is that command, which reproduces the sweep. Ray is shut down, signal
    handlers, environment variables and sys.argv are as they were, when this returns."""
    with environment_restored(), recorded_as_the_script(overrides), store_started_early() as early:
        with hydra_context() as config_loader:
            session, grid = compose_sweep(list(overrides), config_loader)
        return sweep_session(session, grid, early)


@contextlib.contextmanager
def store_started_early() -> Iterator[ProcessBackend | None]:
    """The store's process, forked before the sweep is composed so that MLflow is imported
    meanwhile (start_early), for `sweep_session`; ended unused if the sweep records nothing,
    or never starts (a mistake in the overrides, a dry run)."""
    read_anew()  # the child reads the code as it is now, as the sweep does
    early = start_early()
    try:
        yield early
    finally:
        if early is not None:
            early.discard()


def sweep_session(session: dict, grid: Grid, early: ProcessBackend | None = None) -> SweepResult:
    """A composed sweep, run: checked, the store opened beside Ray (by `early`, a store process
    started before composing, where given), the dashboard's link printed at the end (and the
    dashboard served, for sweep.ui=true)."""
    if session["sweep"]["dry_run"]:
        if early is not None:
            early.discard()
        print(grid.describe())
        return SweepResult(None, status=DRY_RUN)
    configured = session["ray"]["address"]
    session["ray"]["address"] = ray_address(configured)
    try:
        uri = check_session(session)
    except ConfigError as error:
        if configured or not session["ray"]["address"]:
            raise
        # The address came from the environment: name the variable the user set.
        raise ConfigError(str(error).replace("ray.address=", f"{RAY_ADDRESS}=")) from None
    if uri is None and early is not None:
        early.discard()  # tracking=none: no store, and no process for it
    keep_local_ray_on_loopback(session["ray"]["address"])
    read_anew()  # the code as it is now: Ray's workers, new for each sweep, import it anew too
    context = SweepContext(session, grid, uri, time.perf_counter())
    # The store opens in a child process from here on, while this one imports Ray and starts it.
    # tracking=none: no store, and no process for it.
    opening = open_in_background(context, early) if uri is not None else None
    from trainer.sweep.run.driver import execute  # Ray is imported only now, once set up

    outcome = execute(context, opening)
    ranking = choose_ranking(session["sweep"], grid)
    result = SweepResult(
        outcome.parent_run_id,
        records(outcome.rows),
        STATUS[outcome.code],
        outcome.code,
        config_records(outcome.rows, ranking),
    )
    if outcome.code == 0 and uri is not None:
        from trainer.sweep.report import dashboard

        if session["sweep"]["ui"] and not dashboard.is_server(uri):
            dashboard.serve_until_interrupted(uri, outcome.experiment_id, outcome.parent_run_id)
        else:
            lines = dashboard.dashboard_lines(uri, outcome.experiment_id, outcome.parent_run_id)
            print(mask_uri(lines))
    return result


def load_sweep(parent_run_id: str, tracking_uri: str | None = None) -> SweepResult:
    """A finished sweep's rows, read back from MLflow by its parent run's id (the default
    store is ./mlflow.db, as for the command line), from its child runs or, for a sweep run
    with tracking.children=false, from its parent's trial table: the same rows either way."""
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    from trainer.sweep.record.mlflow.reader import recorded_trials

    if not parent_run_id:
        raise ConfigError("parent_run_id is empty: pass a sweep's parent run id (SweepResult's)")
    uri = resolve_uri(tracking_uri)
    path = sqlite_path(uri)
    if path is not None and not path.is_file():
        raise ConfigError(f"tracking_uri={uri}: there is no store at {path}")
    client = MlflowClient(tracking_uri=uri)
    try:
        parent = client.get_run(parent_run_id)
    except MlflowException:
        raise ConfigError(f"parent_run_id={parent_run_id}: no such run in {uri}") from None
    # Child runs or the parent's trial table (tracking.children=false), read alike; a trial
    # logged by code since changed is not one of the sweep's results (README).
    # In name order, whichever the store's: configurations that tie keep that order.
    trials = sorted(recorded_trials(client, parent), key=run_order)
    rows = [Row.from_run(run, numpy.empty(0)) for run in trials]
    tags = parent.data.tags
    ranking = Ranking(
        tags.get("sweep.metric", FINAL_TRAIN_LOSS),
        tags.get("sweep.mode", "min"),
        tags.get("sweep.aggregate", "mean"),
    )
    return SweepResult(parent_run_id, records(rows), configs=config_records(rows, ranking))


def run_order(run) -> tuple[str, str]:
    """A recorded trial's place in a loaded sweep: its run's name, then its trial id."""
    from trainer.contract import RUN_NAME, TRIAL_ID

    tags = run.data.tags
    return tags.get(RUN_NAME, run.info.run_name), tags.get(TRIAL_ID, "")


def records(rows) -> list[dict]:
    """Rows as plain dicts, numbers as numbers, in run-name order."""
    table = []
    for row in rows:
        record = {
            "run_name": row.name,
            "trial_id": row.trial_id,
            "outcome": row.outcome,
            **{key: finite(row.final.get(key)) for key in FINAL_KEYS},
            "divergence_step": row.divergence_step,
            "wall_time": round(row.wall_time, 4),  # as the run's tag keeps it
        }
        record.update({key: number(value) for key, value in row.params.items()})
        table.append(record)
    return sorted(table, key=lambda record: record["run_name"])


def config_records(rows, ranking) -> list[dict]:
    """The configurations of `rows` as configs.csv has them, numbers as numbers."""
    from trainer.sweep.report.configs import configs_csv, configurations

    text = configs_csv(configurations(list(rows), ranking, ranking.aggregate))
    return [
        {k: number(v) if v != "" else None for k, v in row.items()}
        for row in csv.DictReader(io.StringIO(text))
    ]


def finite(value: float | None) -> float | None:
    """A final metric, or None where the trial has none, or a non-finite one (which MLflow does
    not keep: a diverged trial's loss is inf, and its divergence_step says when)."""
    return value if value is not None and math.isfinite(value) else None


def number(text: str):
    """A param as MLflow keeps it (text) back to the number it was, where it was one."""
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            continue
    return text


@contextlib.contextmanager
def environment_restored() -> Iterator[None]:
    """The sweep sets variables for Ray and MLflow (BLAS threads, HTTP retries, loopback); a
    caller's process gets its own environment back."""
    saved = dict(os.environ)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@contextlib.contextmanager
def recorded_as_the_script(overrides: Sequence[str]) -> Iterator[None]:
    """The record names the command that reproduces a sweep (the parent's description, and
    MLflow's source tags), read from sys.argv: for a sweep run from Python, the script with
    these overrides rather than the caller's own command line (a notebook's kernel, say)."""
    saved = sys.argv
    sys.argv = [str(SWEEP_SCRIPT), *overrides]
    try:
        yield
    finally:
        sys.argv = saved
