"""A hung test fails by name and the session goes on: pytest-timeout's signal for a test that
waits in Python, the hard stop of tests/helpers/hard_timeout.py for one stuck in `ray.get`.

Runs a small suite of its own under the project's pytest settings (pyproject.toml), with a 5 s
timeout, in one pytest-xdist worker as the README's commands run (with two).
"""

import os
import subprocess
import sys

import pytest
from support import HELPERS, REPO

pytestmark = pytest.mark.slow  # a pytest session of its own, a Ray in it, two deliberate hangs

CONFTEST = """
from hard_timeout import (  # noqa: F401
    pytest_runtest_protocol,
    pytest_runtest_setup,
    pytest_xdist_make_scheduler,
)


def pytest_sessionstart(session):
    # Ray up before any test's clock starts; only in the first worker, which runs the Ray test.
    worker = getattr(session.config, "workerinput", {}).get("workerid")
    if worker == "gw0":
        import ray

        ray.init(address="local", num_cpus=1, include_dashboard=False, logging_level="error")
"""

HANGS = """
import time


def test_waits_in_python():
    time.sleep(600)


def test_waits_in_ray_get():
    import ray

    @ray.remote
    def forever():
        time.sleep(600)

    ray.get(forever.remote())  # Ray's C++ waits, and swallows pytest-timeout's signal


def test_after_them():
    assert True
"""


@pytest.mark.timeout(300)  # a whole pytest session, two hangs and a Ray start: not one test's
def test_a_hung_test_fails_by_name_and_the_tests_after_it_run(tmp_path):
    (tmp_path / "conftest.py").write_text(CONFTEST)
    (tmp_path / "test_hangs.py").write_text(HANGS)
    command = [sys.executable, "-m", "pytest", "-c", str(REPO / "pyproject.toml")]
    command += ["--rootdir", str(tmp_path), "-p", "no:cacheprovider", "-n", "1", "-o", "timeout=5"]
    command += ["-o", f"pythonpath={HELPERS}", str(tmp_path / "test_hangs.py")]
    # A session of its own, not a worker of this one (when this one runs under pytest-xdist).
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    done = subprocess.run(
        command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=240
    )
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    # In Python: pytest-timeout's signal, a traceback where it waited, the worker goes on.
    assert "FAILED test_hangs.py::test_waits_in_python - Failed: Timeout (>5.0s)" in output
    assert "time.sleep(600)" in output
    # In ray.get: stopped 5 s later (the grace), named, the worker replaced; handed to the new
    # worker with the rest of its module, it is skipped there, not run (and hung) again.
    stopped = "test_hangs.py::test_waits_in_ray_get is still running 5 s past its 5 s timeout"
    assert stopped in output
    assert "crashed while running 'test_hangs.py::test_waits_in_ray_get'" in output
    assert "stopped by the hard timeout in a worker that ended: reported failed there" in output
    assert "2 failed, 1 passed, 1 skipped" in output, output
