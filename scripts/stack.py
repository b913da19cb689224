"""A local stack to try scaling out on: PostgreSQL, an mlflow server on it, and a Ray head.

    python scripts/stack.py up [--ray]     start them (each on 127.0.0.1), print what to pass
    python scripts/stack.py down           stop what `up` started, by its pids; data kept
    python scripts/stack.py down --delete  ... and delete its data too

PostgreSQL is a cluster of its own (scripts/pg_cluster.py: Debian's `apt-get install postgresql`
server binaries; as the `postgres` user when run as root), the server proxies artifacts into
the stack's folder (`--dir`, .gradsweep-stack by default), and the Ray head has token
authentication on. Nothing else on the machine is touched: no `ray stop`, no system service.
"""

import argparse
import hashlib
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from pg_cluster import SERVER_USER, PostgresCluster, runs_as_root

HOST = "127.0.0.1"
DATABASE = "mlflow"
BIN = Path(sys.executable).parent


def cluster_folder(stack: Path) -> Path:
    """Where PostgreSQL keeps its data: in the stack's folder, or as root in the `postgres`
    user's home (the server cannot run as root, nor reach into root's folders)."""
    if not runs_as_root():
        return stack / "postgres"
    digest = hashlib.sha256(str(stack).encode()).hexdigest()[:12]
    return Path(pwd.getpwnam(SERVER_USER).pw_dir) / f"gradsweep-stack-{digest}"


def port_free(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex((HOST, port)) != 0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def detached(command: list[str], log: Path, env: dict) -> int:
    """Start `command` in a session of its own that outlives this script; its pid."""
    with open(log, "a") as output:
        process = subprocess.Popen(
            command,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return process.pid


def wait_until(ready, what: str, log: Path, pid: int, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        if not alive(pid) or time.monotonic() > deadline:
            tail = log.read_text()[-2000:] if log.exists() else ""
            raise SystemExit(f"error: {what} did not start (see {log}):\n{tail}")
        time.sleep(0.3)


def answers(uri: str) -> bool:
    try:
        with urllib.request.urlopen(f"{uri}/health", timeout=2) as answer:
            return answer.status == 200
    except OSError:
        return False


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def tree(pid: int) -> list[int]:
    """`pid` and every process under it."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        found.append(todo.pop())
        todo += children.get(found[-1], [])
    return found


def stop_tree(pid: int, timeout: float = 20) -> None:
    """SIGTERM to `pid` and everything under it; SIGKILL to what is left after `timeout`."""
    pids = tree(pid)
    for number, sig in ((0, signal.SIGTERM), (1, signal.SIGKILL)):
        for each in pids:
            try:
                os.kill(each, sig)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + (timeout if number == 0 else 5)
        while any(alive(each) for each in pids) and time.monotonic() < deadline:
            time.sleep(0.1)


def up(args) -> None:
    stack = args.dir.resolve()
    state_file = stack / "stack.json"
    if state_file.exists() and alive(json.loads(state_file.read_text()).get("server", 0)):
        print(f"already up (stop it with `python scripts/stack.py down --dir {args.dir}`):")
        print(json.loads(state_file.read_text())["lines"])
        return
    ports = {"--postgres-port": args.postgres_port, "--port": args.port}
    if args.ray:
        ports["--ray-port"] = args.ray_port
    for flag, port in ports.items():
        if not port_free(port):
            raise SystemExit(f"error: port {port} on {HOST} is in use: choose another with {flag}")
    stack.mkdir(parents=True, exist_ok=True)
    stack.chmod(0o700)
    state = {"cluster": str(cluster_folder(stack))}
    try:
        postgres = PostgresCluster(Path(state["cluster"]), args.postgres_port).init()
    except FileNotFoundError as error:
        raise SystemExit(f"error: {error}") from None
    postgres.start()
    state_file.write_text(json.dumps(state))  # from here on, `down` stops what was started
    try:
        postgres.create_database(DATABASE)
    except Exception as error:  # kept from an earlier `up`: psycopg's DuplicateDatabase
        if "already exists" not in str(error):
            raise
    uri = postgres.url(DATABASE)
    (stack / "database.uri").write_text(uri + "\n")
    (stack / "database.uri").chmod(0o600)
    server = f"http://{HOST}:{args.port}"
    command = [sys.executable, "-m", "mlflow", "server", "--host", HOST, "--port", str(args.port)]
    command += ["--workers", "1", "--artifacts-destination", str(stack / "artifacts")]
    # The URI, password and all, through the environment: not on a command line `ps` shows.
    # Without MLflow 3's job runner (seconds of CPU to start its consumers): sweeps submit no
    # jobs. A user's own setting is kept.
    env = {
        "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
        **os.environ,
        "MLFLOW_BACKEND_STORE_URI": uri,
    }
    state["server"] = detached(command, stack / "mlflow.log", env)
    state_file.write_text(json.dumps(state))
    shown = uri.replace(postgres.password, "***")
    lines = [f"postgresql: {shown} (the whole URI: {stack / 'database.uri'})"]
    lines.append(f"mlflow server: {server} (artifacts in {stack / 'artifacts'})")
    sweep = f"python scripts/sweep.py tracking.uri={server}"
    if args.ray:
        state.update(ray_head(stack, args.ray_port))
        state_file.write_text(json.dumps(state))
        lines.append(f"ray head: {HOST}:{args.ray_port} (token authentication on)")
        sweep = f"RAY_AUTH_MODE=token {sweep} ray.address={HOST}:{args.ray_port}"
    wait_until(lambda: answers(server), "mlflow server", stack / "mlflow.log", state["server"])
    where = "" if args.dir == Path(".gradsweep-stack") else f" --dir {args.dir}"
    lines += ["run a sweep on it:", f"  {sweep}", f"stop it: python scripts/stack.py down{where}"]
    state["lines"] = "\n".join(lines)
    state_file.write_text(json.dumps(state))
    print(state["lines"])


def ray_head(stack: Path, port: int) -> dict:
    """`ray start --head` on loopback with token authentication, in the foreground of a session
    of its own (so `down` stops exactly its processes), its temp directory its own."""
    env = {**os.environ, "RAY_AUTH_MODE": "token"}
    token = [str(BIN / "ray"), "get-auth-token", "--generate"]  # kept in ~/.ray/auth_token
    subprocess.run(token, env=env, capture_output=True, check=True)
    temp = tempfile.mkdtemp(prefix="gradsweep-ray-")  # short: Ray's socket paths
    command = [str(BIN / "ray"), "start", "--head", "--block", f"--node-ip-address={HOST}"]
    command += [f"--port={port}", f"--temp-dir={temp}", "--include-dashboard=false"]
    command += ["--disable-usage-stats", f"--ray-client-server-port={free_port()}"]
    command += [f"--dashboard-agent-listen-port={free_port()}"]
    log = stack / "ray.log"
    pid = detached(command, log, env)
    wait_until(lambda: "Ray runtime started." in log.read_text(), "ray head", log, pid)
    return {"ray": pid, "ray_temp": temp}


def down(args) -> None:
    stack = args.dir.resolve()
    state_file = stack / "stack.json"
    if not state_file.exists():
        print(f"nothing to stop: no {state_file}")
        return
    state = json.loads(state_file.read_text())
    # Ray's head keeps a raylet and agents that sit out a SIGTERM for half a minute.
    for name, grace in (("ray", 3), ("server", 20)):
        if alive(state.get(name, 0)):
            stop_tree(state[name], grace)
    folder = Path(state["cluster"])
    if (folder / "data").is_dir():
        PostgresCluster(folder, 0).stop()
    shutil.rmtree(state.get("ray_temp", ""), ignore_errors=True)
    state_file.unlink()
    if args.delete:
        shutil.rmtree(folder, ignore_errors=True)
        shutil.rmtree(stack, ignore_errors=True)
        also = "" if folder == stack / "postgres" else f" and {folder}"
        print(f"stopped; deleted {stack}{also}")
    else:
        print(f"stopped; the data stays in {folder} and {stack} (--delete deletes it)")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["up", "down"])
    parser.add_argument("--dir", type=Path, default=Path(".gradsweep-stack"))
    parser.add_argument("--ray", action="store_true", help="also a Ray head (up)")
    parser.add_argument("--port", type=int, default=5000, help="the mlflow server's")
    parser.add_argument("--postgres-port", type=int, default=5433)
    parser.add_argument("--ray-port", type=int, default=6379)
    parser.add_argument("--delete", action="store_true", help="delete the data too (down)")
    args = parser.parse_args(argv)
    (up if args.command == "up" else down)(args)


if __name__ == "__main__":
    main()
