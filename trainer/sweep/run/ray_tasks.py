"""Run trials in Ray workers, several trials per Ray task, and hand Results back to the driver."""

import json
import math
import os
import threading
import traceback
from collections.abc import Iterator
from pathlib import Path

import ray
from ray.exceptions import RayError

from trainer.config.errors import ConfigError
from trainer.sweep.plan.grid import Trial
from trainer.sweep.run.ray_setup import LOOPBACK, address_key
from trainer.training.result import Result

PROJECT_ROOT = Path(__file__).resolve().parents[3]
# numpy's BLAS gets one thread per worker: the parallelism is one trial per core.
ONE_THREAD = {name: "1" for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
SHIPPED_EXCLUDES = [
    ".git",
    "**/__pycache__",
    "*.db",
    "mlartifacts",
    "mlruns",
    "outputs",
    "*.egg-info",
]
TASKS_PER_CPU = 4
# At most this many trials per Ray task: a lost node or a bad trial never costs more to redo.
MAX_TRIALS_PER_TASK = 64
_stopping: threading.Thread | None = None  # ray.shutdown() under way in a thread
# Workers warm up on the distinct tasks among the grid's first trials.
WARM_UP_SCAN, WARM_UP_TASKS = 256, 4


def connect(address: str, num_cpus: int | None, dashboard: bool = False) -> int:
    """Start a local Ray, or attach to a cluster and ship the project's code to it; CPUs to use.
    `address` is ray.address, or else RAY_ADDRESS (see ray_setup.ray_address)."""
    if address:
        runtime_env = {
            "working_dir": str(PROJECT_ROOT),
            "excludes": SHIPPED_EXCLUDES,
            "env_vars": ONE_THREAD,
        }
        try:
            context = ray.init(
                address=address,
                runtime_env=runtime_env,
                logging_level="warning",
                log_to_driver=False,
            )
        except ConnectionError as error:
            raise ConfigError(f"{address_key(address)}={address}: {first(error)}") from None
        print(
            f"ray: attached to {address} ({address_key(address)}); code shipped from {PROJECT_ROOT}"
        )
    else:
        for name, value in ONE_THREAD.items():
            os.environ.setdefault(name, value)
        # "local", not None: None would attach to $RAY_ADDRESS or to whatever cluster `ray start`
        # last left on this machine, which a local sweep must not touch.
        context = ray.init(
            address="local",
            num_cpus=num_cpus,
            include_dashboard=dashboard,
            dashboard_host=LOOPBACK,
            logging_level="warning",
            log_to_driver=False,
        )
    if dashboard and context.dashboard_url:
        print(f"ray dashboard: http://{context.dashboard_url}{sign_in_hint()}")
    return int(ray.available_resources().get("CPU", 1))


def stop_ray_in_background() -> None:
    """Start stopping Ray in a thread: a local Ray's processes take over a second to end, time
    the driver can spend on the sweep's summary. `stop_ray` waits for it."""
    global _stopping
    if _stopping is None:
        _stopping = threading.Thread(target=ray.shutdown, name="ray-shutdown", daemon=True)
        _stopping.start()


def stop_ray() -> None:
    """Stop Ray (disconnect from a cluster), or wait for the stop started in the background."""
    global _stopping
    if _stopping is None:
        ray.shutdown()
        return
    _stopping.join()
    _stopping = None


def sign_in_hint() -> str:
    """With Ray's token authentication on, its dashboard asks for the token first."""
    try:
        from ray._private.authentication.authentication_utils import is_token_auth_enabled
    except ImportError:  # a Ray without token authentication
        return ""
    return " (it asks for the token `ray get-auth-token` prints)" if is_token_auth_enabled() else ""


def first(error: Exception) -> str:
    return str(error).splitlines()[0]


@ray.remote(num_cpus=1, max_retries=0)
def warm_up(tasks: list[tuple[dict, int]]) -> None:
    """Import what a trial needs and load each task's data (once per worker process), so that
    a worker's first trials start warm. Sent while the store opens: nothing trains or is
    recorded; a task that cannot be built fails in its trials, with their traceback."""
    try:
        import trainer.training.trial  # noqa: F401 (the engine, the optimizers, the figures)
        from trainer.training.build import build_task

        for config, seed in tasks:
            task = build_task(config, seed=seed)
            if hasattr(task, "data"):
                task.data()
    except Exception:
        return


def warm_up_workers(trials: list[Trial], cpus: int) -> None:
    """One warm_up per CPU for the first few distinct tasks of the grid; not waited for."""
    distinct = {}
    for trial in trials[:WARM_UP_SCAN]:
        task, seed = trial.config["task"], trial.config["trainer"]["seed"]
        distinct.setdefault(json.dumps([task, seed], sort_keys=True, default=str), (task, seed))
    tasks = list(distinct.values())[:WARM_UP_TASKS]
    for _ in range(cpus):
        warm_up.remote(tasks)


@ray.remote(num_cpus=1, max_retries=3)
def run_trials(trials: list[Trial]) -> list[Result]:
    """One Ray task: a chunk of trials in sequence. If the worker dies, Ray reruns the chunk."""
    # Imported here, in the worker: the driver never trains, and never pays for matplotlib.
    from trainer.training.trial import run_trial

    node = ray.get_runtime_context().get_node_id()
    return [run_trial(trial.config, trial.trial_id, node) for trial in trials]


def chunks(trials: list[Trial], cpus: int, per_task: int | None) -> list[list[Trial]]:
    """About TASKS_PER_CPU tasks per CPU, so short trials are not dominated by per-task overhead,
    and never more than MAX_TRIALS_PER_TASK trials in one."""
    size = per_task or math.ceil(len(trials) / (cpus * TASKS_PER_CPU))
    size = min(max(1, size), MAX_TRIALS_PER_TASK)
    return [trials[i : i + size] for i in range(0, len(trials), size)]


class RayTrials:
    """Submit every chunk at once; Ray runs as many as it has CPUs and queues the rest."""

    def __init__(self, trials: list[Trial], cpus: int, per_task: int | None = None):
        self.pending = {}
        for chunk in chunks(trials, cpus, per_task):
            self.pending[run_trials.remote(chunk)] = chunk

    def results(self, poll: float = 0.25) -> Iterator[list[Result]]:
        """Yield the Results of every chunk finished within each `poll` s (an empty list while
        none finish): one wait for all the work in flight, not one task at a time."""
        while self.pending:
            ready, _ = ray.wait(list(self.pending), num_returns=len(self.pending), timeout=poll)
            results = []
            for ref in ready:
                chunk = self.pending.pop(ref)
                try:
                    results += ray.get(ref)
                except RayError:
                    # Ray's retries are spent (or the node is gone for good): record, go on.
                    error = traceback.format_exc()
                    results += [Result.failed(t.config, error, t.trial_id) for t in chunk]
            yield results

    def cancel(self) -> None:
        for ref in self.pending:
            ray.cancel(ref, force=True)
        self.pending.clear()
