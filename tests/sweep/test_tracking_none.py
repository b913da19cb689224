"""`tracking=none`: a sweep runs every trial and prints its table, and records nothing."""

import pytest
from support import run_script

pytestmark = pytest.mark.slow  # scripts/sweep.py launched on Ray


def test_a_sweep_without_a_store_prints_its_table_and_writes_nothing(tmp_path):
    done = run_script(
        "sweep.py",
        "sweep=quadratic",
        "optimizer.lr=0.01,0.02,0.05",
        "optimizer.momentum=0,0.9",
        "trainer.steps=50",
        "ray.num_cpus=2",
        "tracking=none",
        cwd=tmp_path,
        check=True,
    )
    assert "6 trials, 0 already done, 6 to run on 2 CPUs; tracking none" in done.stdout
    assert "6 trials: " in done.stdout and "best trials" in done.stdout
    assert "tracking=none: nothing was recorded" in done.stdout
    assert "mlflow" not in done.stdout + done.stderr.lower()
    # No store, no spool, no artifacts: the working directory is as it was.
    assert list(tmp_path.iterdir()) == []


def test_a_boundary_search_without_a_store_prints_its_table_and_writes_nothing(tmp_path):
    done = run_script(
        "sweep.py",
        "sweep=boundary",
        "optimizer=momentum",
        "optimizer.momentum=0,0.9",
        "trainer.steps=300",
        "sweep.boundary.rtol=0.1",
        "ray.num_cpus=2",
        "tracking=none",
        cwd=tmp_path,
        check=True,
    )
    assert "boundary search over optimizer.lr for 2 points" in done.stdout
    assert "2 points, " in done.stdout and "lr*/theory" in done.stdout
    assert "tracking=none: nothing was recorded" in done.stdout
    assert "mlflow" not in done.stdout + done.stderr.lower()
    assert list(tmp_path.iterdir()) == []
