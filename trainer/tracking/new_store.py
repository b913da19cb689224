"""A new sqlite store as a file copy of an empty one MLflow migrated once per MLflow version.

MLflow builds a new sqlite store by running its whole schema history (some fifty migrations,
about a second of CPU, spent while a sweep's Ray starts on the same cores). The first time a
new store is needed on a machine, MLflow builds an empty one in the cache folder
($XDG_CACHE_HOME/gradsweep, else ~/.cache/gradsweep), kept without its Default experiment;
every new store is a copy of that file, to which MLflow adds the Default experiment as it does
to a store it built.
A store that exists is never touched, and where anything is amiss (a read-only home, no hard
links) MLflow builds the new store itself, as without this module.
"""

import contextlib
import os
import shutil
import sqlite3
import tempfile
from pathlib import Path

from trainer.config.uri import sqlite_path

DEFAULT_EXPERIMENT_ID = 0  # MLflow's, created when a store without it is opened


def cache_folder() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "gradsweep"


def template_path() -> Path:
    """The empty store of the MLflow installed (one schema history per version)."""
    import mlflow

    return cache_folder() / f"mlflow-{mlflow.__version__}-empty.db"


def seed(uri: str) -> bool:
    """Where `uri` names a sqlite file not there yet (in a folder that is), put the empty store
    in its place; whether it did. MLflow opening it then adds the Default experiment."""
    path = sqlite_path(uri)
    if path is None or "?" in uri or path.exists() or not path.parent.is_dir():
        return False
    try:
        template = template_path()
        if not template.is_file():
            build(template)
        return copy_into_place(template, path)
    except Exception:  # no home folder, a full disk, MLflow's own error: it builds the store
        return False


def build(template: Path) -> None:
    """MLflow builds a store in a scratch folder beside `template`; its Default experiment is
    removed and the file moved into place whole (two processes building at once: the same file)."""
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    template.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=template.parent, prefix=".building-") as folder:
        scratch = Path(folder) / "mlflow.db"
        store = SqlAlchemyStore(f"sqlite:///{scratch}", Path(folder).as_uri())
        store.engine.dispose()
        with contextlib.closing(sqlite3.connect(scratch)) as connection, connection:
            connection.execute(
                "DELETE FROM experiments WHERE experiment_id = ?", (DEFAULT_EXPERIMENT_ID,)
            )
        os.replace(scratch, template)


def copy_into_place(template: Path, path: Path) -> bool:
    """Copy `template` to `path` without ever leaving a partial file there, nor replacing a
    store another process put there meanwhile; whether this call put it."""
    handle, scratch = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-new-")
    os.close(handle)
    try:
        shutil.copyfile(template, scratch)
        os.link(scratch, path)  # fails if the file exists: the other process's store stays
        return True
    except FileExistsError:
        return False
    finally:
        os.unlink(scratch)
