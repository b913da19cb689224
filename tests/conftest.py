"""Every Ray the tests start, and every sweep they run, binds 127.0.0.1 only (see preflight)."""

import os

from trainer.preflight import LOOPBACK_RAY

os.environ[LOOPBACK_RAY] = "0"
