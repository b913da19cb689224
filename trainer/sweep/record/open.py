"""A sweep's Store, opened: MLflow behind the spool (in a child process or here), or none."""

from trainer.config.errors import ConfigError
from trainer.sweep.context import SweepContext
from trainer.sweep.plan.grid import Grid
from trainer.sweep.record.no_store import NoStore
from trainer.sweep.record.spool import Spool
from trainer.sweep.record.spooled_store import SpooledStore
from trainer.sweep.record.store import Backend, Store
from trainer.sweep.record.store_process import ProcessBackend
from trainer.tracking.provenance import code_fingerprint


def sweep_spool(uri: str, grid: Grid) -> Spool:
    """The sweep's spool beside its store; results computed by other code are not replayed."""
    code = code_fingerprint(trial.config for trial in grid.trials)
    return Spool.for_sweep(uri, grid.sweep_id, code)


def open_store(context: SweepContext, opening: ProcessBackend | None) -> Store:
    """The sweep's store, resumed, under its lease. `opening` is the store process started
    before Ray (None where processes cannot fork): waited for here; if it died, the store is
    opened in this process. ConfigError if MLflow refuses the store or another driver has the
    sweep."""
    if context.uri is None:
        return NoStore()  # tracking=none: nothing is recorded
    backend: Backend | None = None
    if opening is not None and opening.leased() is not None:
        backend = opening.ready()
    if backend is None:
        backend = open_in_process(context)
    return SpooledStore(backend, sweep_spool(context.uri, context.grid))


def open_in_process(context: SweepContext) -> Backend:
    """The MLflow backend opened and resumed in this process."""
    from trainer.sweep.record.lease import LeaseHeld
    from trainer.sweep.record.mlflow.opening import backend_class, resumed  # MLflow: seconds

    try:
        backend = backend_class(context)(context)
    except LeaseHeld as held:
        raise ConfigError(str(held)) from None
    try:
        return resumed(backend)
    except ConfigError:
        backend.close()
        raise
