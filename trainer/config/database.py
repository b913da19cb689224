"""A database tracking URI checked before anything starts, read-only: scheme, driver, login.

Its scheme as MLflow spells it (postgresql://, not postgres://), its driver installed, and a
PostgreSQL that lets the user in. Nothing is created or migrated.
"""

import re
from urllib.parse import urlparse

from trainer.config.errors import ConfigError
from trainer.config.redact import mask_uri

POSTGRES_ALIAS = "postgres"  # libpq's and Heroku's spelling, which MLflow and SQLAlchemy refuse
POSTGRESQL = "postgresql"
# What PostgreSQL says after FATAL: (a refused login, a missing database), up to its DETAIL.
SERVER_SAYS = re.compile(r"FATAL:\s+(?P<why>.+?)(?:\s+DETAIL:|$)", re.DOTALL)


def accepted_form(uri: str) -> str:
    """`postgres://...` as MLflow accepts it, credentials masked: `postgresql://...`."""
    return mask_uri(POSTGRESQL + uri[len(POSTGRES_ALIAS) :])


def check_scheme_spelling(uri: str) -> None:
    """`postgres://` is refused in one line naming the form MLflow takes."""
    if urlparse(uri).scheme.split("+")[0] == POSTGRES_ALIAS:
        raise ConfigError(
            f"tracking.uri={mask_uri(uri)} is not accepted: MLflow takes the scheme "
            f"postgresql://, as in {accepted_form(uri)}"
        )


def check_database(uri: str, timeout: float = 3.0) -> None:
    """Its driver importable; for PostgreSQL, a login to the database (then closed)."""
    import sqlalchemy
    from sqlalchemy.engine import make_url
    from sqlalchemy.pool import NullPool

    shown = f"tracking.uri={mask_uri(uri)}"
    try:
        url = make_url(uri)
        url.get_dialect().import_dbapi()
    except (ImportError, sqlalchemy.exc.NoSuchModuleError, sqlalchemy.exc.ArgumentError) as error:
        raise ConfigError(
            f"{shown} cannot be opened: its database driver is missing ({first_line(error)}); "
            "install it, or use postgresql:// (psycopg, which gradsweep installs)"
        ) from None
    if url.get_backend_name() != POSTGRESQL or url.get_driver_name() not in ("psycopg", "psycopg2"):
        return
    engine = sqlalchemy.create_engine(
        url, poolclass=NullPool, connect_args={"connect_timeout": max(1, round(timeout))}
    )
    try:
        with engine.connect():
            pass
    except sqlalchemy.exc.DBAPIError as error:
        raise ConfigError(f"{shown} refused the sweep: {server_reason(error, url)}") from None
    finally:
        engine.dispose()


def server_reason(error: Exception, url) -> str:
    """Why PostgreSQL would not let the user in, in its own words, with what to do."""
    text = str(getattr(error, "orig", error))
    found = SERVER_SAYS.search(text)
    why = " ".join((found["why"] if found else first_line(error)).split())
    if "does not exist" in why and url.database and f'"{url.database}"' in why:
        return f"{why}; create it first (createdb {url.database}, or CREATE DATABASE)"
    return mask_uri(why)


def first_line(error: Exception) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__
