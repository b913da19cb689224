"""The local Ray a sweep starts: token authentication on, as the README's security notes say."""

import os
import subprocess
import sys

import pytest
from support import REPO

pytestmark = pytest.mark.slow  # a local Ray started in a new interpreter

# Start Ray the way the sweep does, then ask Ray itself whether it requires a token.
PROBE = """
from trainer.sweep.run.ray_setup import keep_local_ray_on_loopback
keep_local_ray_on_loopback("")
from trainer.sweep.run.cluster import connect
connect("", 1)
import ray
from ray._private.authentication.authentication_utils import is_token_auth_enabled
print("token auth:", is_token_auth_enabled())
ray.shutdown()
"""


def test_a_local_sweep_ray_requires_a_token(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "RAY_AUTH_MODE"}
    env["PYTHONPATH"] = str(REPO)
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr
    assert "token auth: True" in done.stdout
    # On by default, and said so explicitly: Ray prints no warning about deciding it.
    assert "Token authentication" not in done.stderr, done.stderr
