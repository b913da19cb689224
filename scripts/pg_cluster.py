"""A PostgreSQL cluster of its own, from the server binaries: initdb, start, stop by its pid."""

import glob
import os
import pwd
import secrets
import shutil
import signal
import subprocess
import time
from pathlib import Path

# Debian's postgresql package keeps the server binaries off PATH, one folder per major version.
DEBIAN_BINARIES = "/usr/lib/postgresql/*/bin"
SERVER_USER = "postgres"  # PostgreSQL refuses to run as root: as root, it runs as this user
SUPERUSER = "gradsweep"


def server_binaries() -> Path | None:
    """The folder of initdb, pg_ctl and postgres: $PG_BIN, PATH, or Debian's newest version."""
    given = os.environ.get("PG_BIN")
    if given:
        return Path(given)
    found = shutil.which("pg_ctl")
    if found and shutil.which("initdb"):
        return Path(found).parent
    versions = sorted(glob.glob(DEBIAN_BINARIES), key=lambda p: int(Path(p).parent.name))
    return Path(versions[-1]) if versions else None


def runs_as_root() -> bool:
    return os.geteuid() == 0


class PostgresCluster:
    """A cluster in `folder` (data in folder/data, its unix socket in folder itself) serving
    `host`:`port` with password authentication for SUPERUSER. As root, `folder` is given to
    the `postgres` user and every server command runs as that user."""

    def __init__(self, folder: Path, port: int, host: str = "127.0.0.1", quick: bool = False):
        self.folder, self.port, self.host, self.quick = Path(folder), port, host, quick
        self.data = self.folder / "data"
        self.binaries = server_binaries()
        if self.binaries is None:
            raise FileNotFoundError(
                "PostgreSQL's server binaries (initdb, pg_ctl) are not installed: "
                "`apt-get install postgresql` (or set PG_BIN to their folder)"
            )

    @property
    def password(self) -> str:
        return (self.folder / "password").read_text().strip()

    def url(self, database: str = "postgres", host: str | None = None) -> str:
        """The SQLAlchemy (and MLflow) URI of `database`, with the password in it."""
        where = f"{host or self.host}:{self.port}"
        return f"postgresql://{SUPERUSER}:{self.password}@{where}/{database}"

    def _command(self, *args: str) -> list[str]:
        command = [str(self.binaries / args[0]), *args[1:]]
        return ["runuser", "-u", SERVER_USER, "--", *command] if runs_as_root() else command

    def _run(self, *args: str) -> None:
        done = subprocess.run(
            self._command(*args), cwd=self.folder, capture_output=True, text=True, timeout=120
        )
        if done.returncode != 0:
            raise RuntimeError(f"{args[0]} exited {done.returncode}: {done.stderr.strip()}")

    def init(self) -> "PostgresCluster":
        """initdb, once: the data folder, the superuser's password and where the server
        listens (postgresql.conf)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        self.folder.chmod(0o700)
        if (self.data / "PG_VERSION").is_file():
            return self
        secret = self.folder / "password"
        secret.write_text(secrets.token_hex(16) + "\n")
        secret.chmod(0o600)
        if runs_as_root():
            owner = pwd.getpwnam(SERVER_USER)
            os.chown(self.folder, owner.pw_uid, owner.pw_gid)
            os.chown(secret, owner.pw_uid, owner.pw_gid)
        args = ["initdb", "-D", str(self.data), "-U", SUPERUSER, "-E", "UTF8", "--locale=C"]
        args += ["--auth=scram-sha-256", f"--pwfile={secret}"]
        self._run(*args, *(["--no-sync"] if self.quick else []))
        settings = {
            "listen_addresses": f"'{self.host}'",
            "port": str(self.port),
            "unix_socket_directories": f"'{self.folder}'",
        }
        if self.quick:  # a throwaway cluster: no fsync, it dies with the machine anyway
            settings["fsync"] = "off"
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.writelines(f"{key} = {value}\n" for key, value in settings.items())
        return self

    def start(self) -> "PostgresCluster":
        """pg_ctl start, waiting until it accepts connections."""
        log = str(self.folder / "server.log")
        self._run("pg_ctl", "-D", str(self.data), "-l", log, "-w", "-t", "60", "start")
        return self

    def pid(self) -> int | None:
        """The postmaster's pid while it runs (the first line of postmaster.pid)."""
        try:
            pid = int((self.data / "postmaster.pid").read_text().split()[0])
            os.kill(pid, 0)
            return pid
        except (OSError, ValueError, IndexError):
            return None

    def stop(self, timeout: float = 60) -> None:
        """Fast shutdown by the postmaster's own pid (SIGINT): clients are disconnected, what
        was committed is kept; waits until it has exited (after `timeout`, an immediate
        shutdown, SIGQUIT, which recovers from its log at the next start)."""
        pid = self.pid()
        for sig, wait in ((signal.SIGINT, timeout), (signal.SIGQUIT, 10)):
            if pid is None or self.pid() != pid:
                return
            os.kill(pid, sig)
            deadline = time.monotonic() + wait
            while self.pid() == pid and time.monotonic() < deadline:
                time.sleep(0.05)

    def execute(self, statement: str, database: str = "postgres") -> None:
        """One statement outside a transaction (CREATE DATABASE must be), as the superuser."""
        import psycopg

        with psycopg.connect(self.url(database), autocommit=True, connect_timeout=10) as db:
            db.execute(statement)

    def create_database(self, name: str, template: str | None = None) -> str:
        """A new database (a copy of `template`, if given); its URI."""
        copy = f" TEMPLATE {template}" if template else ""
        self.execute(f'CREATE DATABASE "{name}"{copy}')
        return self.url(name)
