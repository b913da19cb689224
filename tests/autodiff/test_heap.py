"""keep_freed_memory: a wide layer's step stops faulting in the memory the last step freed."""

import subprocess
import sys

import pytest

# Twenty steps of a (256, 256) tanh MLP after a warm-up; prints the minor page faults per step.
STEPS = """
import resource, sys
import numpy as np
import autodiff
from autodiff import nn
from autodiff.heap import keep_freed_memory
from optimizers import Momentum
if sys.argv[1] == "keep":
    assert keep_freed_memory() and keep_freed_memory()  # set once; asking again is harmless
rng = np.random.default_rng(0)
x, y = rng.standard_normal((256, 64)), rng.integers(0, 10, 256)
model = nn.MLP([64, 256, 10], seed=0)
optimizer = Momentum(model.parameters(), lr=0.01)
def step():
    autodiff.cross_entropy(model(x), y).backward()
    optimizer.step()
    optimizer.zero_grad()
for _ in range(5):
    step()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(20):
    step()
print((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 20)
"""


def faults_per_step(mode: str) -> float:
    done = subprocess.run(
        [sys.executable, "-c", STEPS, mode], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return float(done.stdout)


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt: Linux only")
def test_a_step_reuses_what_the_last_one_freed():
    # glibc's defaults hand each step's (256, 256) arrays back and fault them in again.
    assert faults_per_step("glibc") > 128  # more than one 512 KiB array's pages each step
    assert faults_per_step("keep") < 8
