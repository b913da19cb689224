"""The README's "Scaling out" block, run as it says, each command on the node it names.

The head node is this machine; every other node is a SecondHost. Placeholders and addresses
are put in; a few test-only flags are added (see FOREGROUND).
"""

import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from hosts import SecondHost, stop_tree, wait_for_line
from support import NO_SERVER_JOBS, REPO, free_port, script_env

from trainer.sweep.run.ray_setup import LOOPBACK_RAY

MARKER = "<!-- scaling-out"
BIN = Path(sys.executable).parent  # mlflow, ray: the commands of the environment under test
# Test-only additions, for a machine shared with other clusters: each node in the foreground
# (so it is stopped by its process tree), one CPU, no dashboard, and the head's ports that
# default to fixed numbers chosen free.
FOREGROUND = ["--block", "--num-cpus=1", "--disable-usage-stats"]


@dataclass
class Step:
    host: str  # "head" or "other" (every other node), as the block's comments say
    command: list[str] = field(default_factory=list)
    exports: dict[str, str] = field(default_factory=dict)


def block() -> str:
    text = (REPO / "README.md").read_text()
    return re.search(r"```bash\n(.*?)```", text[text.index(MARKER) :], flags=re.S).group(1)


def steps(values: dict[str, str]) -> list[Step]:
    """The block's commands in order, each key of `values` in them replaced by its value."""
    text = block().replace("\\\n", " ")
    for placeholder, value in values.items():
        text = text.replace(placeholder, value)
    found, host = [], "head"
    for line in map(str.strip, text.splitlines()):
        if line.startswith("#"):
            host = "other" if "other node" in line else "head" if "head node" in line else host
        elif line.startswith("export "):
            found.append(Step(host, exports=dict(w.split("=", 1) for w in shlex.split(line)[1:])))
        elif line:
            found.append(Step(host, command=shlex.split(line)))
    return found


class ScalingOut:
    """The cluster the block sets up, against the PostgreSQL `postgres`, with `host` as every
    other node; `sweep` is the block's last command, ready to run with more overrides."""

    def __init__(self, postgres, host: SecondHost, folder: Path):
        self.host, self.folder = host, folder
        self.ray_port, self.server_port = free_port(), free_port()
        self.ray_temp = tempfile.mkdtemp(prefix="gs-ray-")  # short: Ray's socket paths
        self.values = {
            "10.0.0.1": host.address,
            "<this node's address>": host.remote,
            "6379": str(self.ray_port),
            "5000": str(self.server_port),
            "5432": str(postgres.port),
            "<user>": "gradsweep",
            "<password>": postgres.cluster.password,
            "/srv/mlflow-artifacts": str(folder / "artifacts"),
            "scripts/sweep.py": str(REPO / "scripts" / "sweep.py"),
        }
        self.uri = f"http://{host.address}:{self.server_port}"
        self.address = f"{host.address}:{self.ray_port}"
        # Ray's default on Linux again (tests/conftest.py keeps a local Ray on loopback).
        base = {**script_env(), LOOPBACK_RAY: "1"}
        base["PATH"] = f"{BIN}{os.pathsep}{base['PATH']}"
        # Ray's token goes to this home's ~/.ray, not the user's; createdb logs in by PG*.
        (folder / "home").mkdir()
        self.env = {**base, "HOME": str(folder / "home"), "PGHOST": "127.0.0.1"}
        self.env.update(PGPORT=str(postgres.port), PGUSER="gradsweep")
        self.env["PGPASSWORD"] = postgres.cluster.password
        self.other_env = {**base, "HOME": "/tmp/home"}  # inside the other host's own /tmp
        self.token, self.sweep, self.worker, self.server = "", [], None, None
        self.started: list[subprocess.Popen] = []

    def up(self) -> "ScalingOut":
        for step in steps(self.values):
            self.run(step)
        healthy(self.uri, self.server)
        return self

    def run(self, step: Step) -> None:
        if step.exports:
            exports = {k: v.replace("<token>", self.token) for k, v in step.exports.items()}
            (self.env if step.host == "head" else self.other_env).update(exports)
            return
        command = [word.replace("<token>", self.token) for word in step.command]
        if command[0] == "python":
            self.sweep = [sys.executable, *command[1:]]
            return
        if command[0] in ("mlflow", "ray"):
            command[0] = str(BIN / command[0])
        log = self.folder / f"{len(self.started)}-{Path(command[0]).name}.log"
        if command[1:2] == ["server"]:
            # Without MLflow's job runner, as every test server (support.NO_SERVER_JOBS).
            self.server = self.background(command + ["--workers", "1"], log, NO_SERVER_JOBS)
        elif command[1:2] == ["start"] and step.host == "other":
            self.worker = self.host.start(command + FOREGROUND, self.other_env, log)
            wait_for_line(log, "Ray runtime started.", self.worker)
        elif command[1:2] == ["start"]:
            command += [*FOREGROUND, "--include-dashboard=false", f"--temp-dir={self.ray_temp}"]
            command += [f"--ray-client-server-port={free_port()}"]
            command += [f"--dashboard-agent-listen-port={free_port()}"]
            wait_for_line(log, "Ray runtime started.", self.background(command, log))
        else:
            done = subprocess.run(
                command, env=self.env, capture_output=True, text=True, timeout=120
            )
            assert done.returncode == 0, f"{' '.join(command)}:\n{done.stdout}\n{done.stderr}"
            if "get-auth-token" in command:
                self.token = done.stdout.strip().splitlines()[-1]

    def background(
        self, command: list[str], log: Path, env: dict | None = None
    ) -> subprocess.Popen:
        output = open(log, "w")
        env = {**self.env, **(env or {})}
        process = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)
        self.started.append(process)
        return process

    def down(self) -> None:
        """Every process it started stopped by its tree, the other host removed."""
        self.host.remove()
        for process in reversed(self.started):
            stop_tree(process)
        shutil.rmtree(self.ray_temp, ignore_errors=True)


def healthy(uri: str, process: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with urllib.request.urlopen(f"{uri}/health", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"mlflow server never answered on {uri}")
