"""The sweep's MLflow Backend of the form `tracking.children` asks for, opened and resumed."""

from trainer.config.errors import ConfigError
from trainer.sweep.context import SweepContext
from trainer.sweep.record.mlflow.child_runs import ChildRunsBackend
from trainer.sweep.record.mlflow.parent_backend import FormMismatch, ParentRunBackend
from trainer.sweep.record.mlflow.table_runs import TableBackend


def backend_class(context: SweepContext) -> type[ParentRunBackend]:
    """A child run per trial (tracking.children=true, the default), or the table."""
    return ChildRunsBackend if context.tracking.get("children", True) else TableBackend


def resumed(backend: ParentRunBackend) -> ParentRunBackend:
    """`backend` resumed; ConfigError if its parent holds the other form (closing the backend
    then leaves the parent as it was)."""
    try:
        backend.resume()
    except FormMismatch as mismatch:
        backend.ended = True  # nothing was written: the parent stays as it was
        raise ConfigError(str(mismatch)) from None
    return backend
