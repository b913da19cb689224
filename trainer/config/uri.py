"""Tracking-store addresses: the default store made absolute, the file behind a sqlite URI."""

from pathlib import Path


def default_uri() -> str:
    """MLflow's own default store, ./mlflow.db, made absolute so no working directory moves it."""
    return f"sqlite:///{Path.cwd().resolve() / 'mlflow.db'}"


def resolve_uri(uri: str | None) -> str:
    if not uri:
        return default_uri()
    if uri.startswith("sqlite:///") and not uri.startswith("sqlite:////"):
        return f"sqlite:///{Path(uri[len('sqlite:///') :]).resolve()}"
    return uri


def sqlite_path(uri: str) -> Path | None:
    return Path(uri[len("sqlite:///") :]) if uri.startswith("sqlite:///") else None
