"""scripts/stack.py: `up --ray` starts the local stack and says what to pass; `down` stops it."""

import json
import os
import re
import socket

import postgres
import pytest
from mlflow import MlflowClient
from support import free_port, run_script

pytestmark = pytest.mark.slow


def listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def test_up_starts_the_stack_and_down_stops_exactly_it(tmp_path):
    reason = postgres.missing()
    if reason:  # CI installs PostgreSQL (.ci/run): there, a missing one is a failure
        (pytest.fail if os.environ.get("CI") else pytest.skip)(reason)
    folder, home = tmp_path / "stack", tmp_path / "home"
    home.mkdir()
    port, pg_port, ray_port = free_port(), free_port(), free_port()
    args = ["--dir", str(folder), "--port", str(port), "--postgres-port", str(pg_port)]
    env = {"HOME": str(home)}  # Ray's token goes to this ~/.ray
    args_up = ["up", "--ray", *args, "--ray-port", str(ray_port)]
    up = run_script("stack.py", *args_up, cwd=tmp_path, env=env, check=True)
    server = f"http://127.0.0.1:{port}"
    [sweep] = re.findall(r"^  (RAY_AUTH_MODE=token python scripts/sweep.py .*)$", up.stdout, re.M)
    assert sweep.split()[3:] == [f"tracking.uri={server}", f"ray.address=127.0.0.1:{ray_port}"]
    uri = (folder / "database.uri").read_text().strip()
    assert uri.split(":")[2].split("@")[0] not in up.stdout  # the password is not printed
    state = json.loads((folder / "stack.json").read_text())
    client = MlflowClient(server)
    run = client.create_run(client.create_experiment("tried"))
    client.log_text(run.info.run_id, "hello", "hello.txt")  # proxied into the stack's folder
    assert run.info.artifact_uri.startswith("mlflow-artifacts:")
    assert list((folder / "artifacts").rglob("hello.txt"))
    assert listening(ray_port) and listening(pg_port)
    again = run_script("stack.py", "up", *args, cwd=tmp_path, env=env, check=True)
    assert again.stdout.startswith("already up")

    args_down = ["down", "--delete", "--dir", str(folder)]
    down = run_script("stack.py", *args_down, cwd=tmp_path, env=env, check=True)
    assert down.stdout.startswith("stopped; deleted")
    assert not any(listening(p) for p in (port, pg_port, ray_port))
    assert not folder.exists()
    assert not running(state["server"]) and not running(state["ray"])


def running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False
