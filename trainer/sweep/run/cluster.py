"""Ray for a sweep: a local Ray started on loopback, or a cluster attached with the code shipped."""

import os
import threading
from pathlib import Path

import ray

from trainer.config.errors import ConfigError
from trainer.sweep.run.ray_setup import LOOPBACK, address_key

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
    # A local stack's database, artifacts and the URI with its password (scripts/stack.py), and
    # a spool of results: the workers need neither.
    ".gradsweep-stack",
    ".gradsweep-spool",
]
_stopping: threading.Thread | None = None  # ray.shutdown() under way in a thread


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
