"""Every Ray the tests start, and every sweep they run, binds 127.0.0.1 only (see ray_setup.py)."""

import os

from trainer.sweep.run.ray_setup import LOOPBACK_RAY

os.environ[LOOPBACK_RAY] = "0"
