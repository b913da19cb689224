"""Where a finished sweep sends the user: its parent run in MLflow's model-training view."""

import os
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from urllib.parse import urlparse

UI_HOST = "127.0.0.1"
UI_PORT = 5000  # `mlflow ui`'s default
# MLflow 3's UI opens an experiment in its GenAI face unless the URL asks for this one, where
# the runs table nests children under their parent and the charts show their metrics.
MODEL_TRAINING = "workflowType=machine_learning"


def run_link(base: str, experiment_id: str, run_id: str) -> str:
    """The UI's address of one run (its route `#/experiments/<id>/runs/<run id>`)."""
    return f"{base.rstrip('/')}/#/experiments/{experiment_id}/runs/{run_id}?{MODEL_TRAINING}"


def is_server(uri: str) -> bool:
    return urlparse(uri).scheme in ("http", "https")


def ui_base(port: int = UI_PORT) -> str:
    return f"http://{UI_HOST}:{port}"


def dashboard_lines(uri: str, experiment_id: str, run_id: str, port: int | None = None) -> str:
    """The sweep's last lines: a server's link, or the command that serves a store, and its link.
    `port` is that of a `mlflow ui` already serving the store (sweep.ui=true)."""
    if is_server(uri):
        return f"open the parent run in MLflow: {run_link(uri, experiment_id, run_id)}"
    link = run_link(ui_base(port or UI_PORT), experiment_id, run_id)
    if port is not None:
        return f"mlflow ui is serving {uri} until Ctrl-C; open the parent run: {link}"
    command = f"mlflow ui --backend-store-uri {shlex.quote(uri)}"
    return f"serve the dashboard with:\n  {command}\nthen open the parent run: {link}"


def port_for_ui() -> int:
    """`mlflow ui`'s usual port if it is free on loopback, else one the system picks."""
    for port in (UI_PORT, 0):
        with socket.socket() as probe:
            try:
                probe.bind((UI_HOST, port))
            except OSError:
                continue
            return probe.getsockname()[1]
    raise OSError("no free port on 127.0.0.1")


def start_ui(uri: str, port: int, timeout: float = 90) -> subprocess.Popen:
    """`mlflow ui` on 127.0.0.1 serving `uri`, answering its health check when this returns."""
    command = [sys.executable, "-m", "mlflow", "ui", "--backend-store-uri", uri]
    command += ["--host", UI_HOST, "--port", str(port)]
    # A session of its own: Ctrl-C reaches this process alone, which then stops the UI's workers.
    # Without MLflow 3's job runner (its seven consumers' start costs seconds of CPU): a sweep's
    # dashboard submits no jobs. A user's own setting is kept.
    env = {"MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false", **os.environ}
    ui = subprocess.Popen(
        command,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and ui.poll() is None:
        try:
            with urllib.request.urlopen(f"{ui_base(port)}/health", timeout=2):
                return ui
        except OSError:
            time.sleep(0.3)
    stop_ui(ui)
    raise RuntimeError(f"mlflow ui did not start on {ui_base(port)} for {uri}")


def stop_ui(ui: subprocess.Popen) -> None:
    """Stop `mlflow ui` and the server workers it started: its whole process group."""
    for stop, wait in ((signal.SIGTERM, 20), (signal.SIGKILL, None)):
        try:
            os.killpg(ui.pid, stop)
        except ProcessLookupError:
            break
        try:
            ui.wait(timeout=wait)
            break
        except subprocess.TimeoutExpired:
            continue


def serve_until_interrupted(uri: str, experiment_id: str, run_id: str) -> None:
    """sweep.ui=true: `mlflow ui` on loopback, the link printed, until Ctrl-C ends both."""
    port = port_for_ui()
    print(f"starting mlflow ui on {ui_base(port)} for {uri} ...", flush=True)
    ui = start_ui(uri, port)
    try:
        print(dashboard_lines(uri, experiment_id, run_id, port), flush=True)
        ui.wait()
    except KeyboardInterrupt:
        print("mlflow ui stopped")
    finally:
        stop_ui(ui)
