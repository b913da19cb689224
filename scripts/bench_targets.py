"""Where `bench.py load` records: fresh sqlite files, or one mlflow server on PostgreSQL.

The sqlite target gives each run a file of its own; the server target starts a PostgreSQL of its
own with an `mlflow server` on it (proxied artifacts) and gives each run an experiment of its own.
"""

import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from pg_cluster import PostgresCluster
from stack import free_port, stop_tree, tree

TICKS = os.sysconf("SC_CLK_TCK")
POINTS = "SELECT COUNT(*) FROM metrics WHERE key = 'train_loss' AND run_uuid IN ({runs})"
PARENT = (
    "SELECT key, value FROM latest_metrics WHERE run_uuid IN ({runs}) "
    "AND run_uuid IN (SELECT run_uuid FROM tags WHERE key = 'sweep_id')"
)


class SqliteTarget:
    """Each sweep and each floor in a folder of its own, into its ./mlflow.db."""

    label = "fresh sqlite stores"

    def __init__(self, scratch: Path):
        self.scratch = scratch

    def uri(self, name: str) -> tuple[str, str]:
        """(tracking URI, experiment) of a fresh store named `name`."""
        folder = self.scratch / name
        folder.mkdir()
        return f"sqlite:///{folder}/mlflow.db", "gradsweep"

    def _query(self, name: str, sql: str) -> list:
        runs = "SELECT run_uuid FROM runs"
        with sqlite3.connect(self.scratch / name / "mlflow.db") as db:
            return db.execute(sql.format(runs=runs)).fetchall()

    def points(self, name: str) -> int:
        return self._query(name, POINTS)[0][0]

    def parent_metrics(self, name: str) -> dict:
        return dict(self._query(name, PARENT))

    def cpu(self) -> dict[str, float]:
        return {}

    def close(self) -> None:
        pass


class ServerTarget:
    """One `mlflow server` (one worker, as the tests run it) on a PostgreSQL started for the
    bench; each sweep and each floor logs to an experiment of its own."""

    label = "an mlflow server on PostgreSQL (proxied artifacts), a fresh experiment each"

    def __init__(self, scratch: Path):
        # Not under `scratch`: as root, the server runs as `postgres`, who must reach its folder.
        folder = Path(tempfile.mkdtemp(prefix="gradsweep-bench-pg-"))
        self.postgres = PostgresCluster(folder, free_port()).init().start()
        self.database = self.postgres.create_database("bench")
        port = free_port()
        self.server_uri = f"http://127.0.0.1:{port}"
        command = [sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1"]
        command += ["--port", str(port), "--workers", "1"]
        command += ["--artifacts-destination", str(scratch / "artifacts")]
        env = {**os.environ, "MLFLOW_BACKEND_STORE_URI": self.database}
        with open(scratch / "server.log", "w") as log:
            self.server = subprocess.Popen(command, env=env, stdout=log, stderr=log)
        deadline = time.monotonic() + 120
        while not self._answers():
            if self.server.poll() is not None or time.monotonic() > deadline:
                self.close()
                raise RuntimeError(f"mlflow server did not start: {scratch / 'server.log'}")
            time.sleep(0.3)
        self.warm_up()

    def warm_up(self) -> None:
        """A server's first calls of each kind cost it seconds of CPU (MLflow loads its handlers
        lazily): paid here by a one-trial sweep, which makes every call the sweep and the floor
        make, so both meet the server in its steady state."""
        command = [sys.executable, str(Path(__file__).parent / "sweep.py"), "sweep=quadratic"]
        command += ["optimizer.lr=0.01", "optimizer.momentum=0.9", "trainer.steps=10"]
        command += ["ray.num_cpus=1", f"tracking.uri={self.server_uri}"]
        command += ["tracking.experiment=warm-up"]
        subprocess.run(command, capture_output=True, check=True, timeout=300)

    def _answers(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.server_uri}/health", timeout=2) as answer:
                return answer.status == 200
        except OSError:
            return False

    def uri(self, name: str) -> tuple[str, str]:
        return self.server_uri, name

    def _query(self, name: str, sql: str) -> list:
        import psycopg

        runs = (
            "SELECT run_uuid FROM runs JOIN experiments USING (experiment_id) "
            "WHERE experiments.name = %(name)s"
        )
        with psycopg.connect(self.database) as db:
            return db.execute(sql.format(runs=runs), {"name": name}).fetchall()

    def points(self, name: str) -> int:
        return self._query(name, POINTS)[0][0]

    def parent_metrics(self, name: str) -> dict:
        return dict(self._query(name, PARENT))

    def cpu(self) -> dict[str, float]:
        """CPU seconds so far of the server's processes and of PostgreSQL's (its backends that
        ended are not counted)."""
        server, postgres = tree_cpu(self.server.pid), tree_cpu(self.postgres.pid())
        return {"mlflow server": server, "PostgreSQL": postgres}

    def close(self) -> None:
        if self.server.poll() is None:
            stop_tree(self.server.pid, 5)
        self.postgres.stop()
        shutil.rmtree(self.postgres.folder, ignore_errors=True)


def tree_cpu(pid: int | None) -> float:
    total = 0.0
    for each in tree(pid) if pid else []:
        try:
            fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / TICKS
    return total


TARGETS = {"sqlite": SqliteTarget, "server": ServerTarget}
