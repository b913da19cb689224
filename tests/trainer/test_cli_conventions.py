"""Hydra's habits on the command line: generated --help, --cfg, a sweep value sent to sweep.py."""

import pytest
import yaml
from support import REPO, run_script

pytestmark = pytest.mark.slow  # each test launches the scripts

CONF = REPO / "conf"


def options(group: str) -> list[str]:
    return sorted(path.stem for path in (CONF / group).glob("*.yaml"))


def test_help_lists_each_group_with_its_options_and_each_named_sweep(tmp_path):
    sweep_help = run_script("sweep.py", "--help", cwd=tmp_path, check=True).stdout
    lines = sweep_help.splitlines()
    for group in ("optimizer", "task", "trainer", "tracking", "ray", "sweep"):
        [line] = [line for line in lines if line.split()[:1] == [group]]
        assert line.split(None, 1)[1] == ", ".join(options(group))
    named = lines[lines.index("named sweeps (sweep=NAME):") + 1 :]
    assert [line.split()[0] for line in named] == options("sweep")
    quadratic = (CONF / "sweep" / "quadratic.yaml").read_text().splitlines()[0].lstrip("# ")
    assert any(line.split(None, 1)[1].startswith(quadratic) for line in named)

    train_help = run_script("train.py", "--help", cwd=tmp_path, check=True).stdout
    assert "  optimizer  " + ", ".join(options("optimizer")) in train_help
    assert "named sweeps" not in train_help and "  ray  " not in train_help
    assert list(tmp_path.iterdir()) == []


def test_cfg_prints_the_composed_config_and_runs_nothing(tmp_path):
    done = run_script("train.py", "optimizer=adam", "optimizer.lr=0.3", "--cfg", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    config = yaml.safe_load(done.stdout)
    assert config["optimizer"]["name"] == "adam" and config["optimizer"]["lr"] == 0.3
    assert set(config) == {"optimizer", "task", "trainer", "tracking"}

    args = ["sweep=quadratic", "optimizer.lr=0.02,0.01", "optimizer.momentum=0,0.9"]
    done = run_script("sweep.py", *args, "--cfg", "job", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    header = done.stdout.splitlines()[:2]
    assert header[0].startswith("# grid: 4 trials; axes: optimizer.lr (2) x optimizer.momentum")
    assert header[1] == "# trial 1 of 4:"
    trial = yaml.safe_load(done.stdout)
    assert trial["optimizer"]["lr"] == 0.02 and trial["optimizer"]["momentum"] == 0
    assert trial["task"]["name"] == "quadratic" and set(trial) == {"optimizer", "task", "trainer"}
    assert list(tmp_path.iterdir()) == []


def test_a_sweep_value_given_to_train_py_points_at_sweep_py(tmp_path):
    done = run_script("train.py", "optimizer.lr=0.1,0.01", "task=rosenbrock", cwd=tmp_path)
    assert done.returncode == 2 and done.stdout == ""
    [line] = done.stderr.splitlines()
    assert line.endswith("python scripts/sweep.py optimizer.lr=0.1,0.01 task=rosenbrock")
    assert "optimizer.lr=0.1,0.01 is a sweep" in line
    assert list(tmp_path.iterdir()) == []


def test_an_unknown_option_lists_the_groups_options_from_hydra(tmp_path):
    done = run_script("sweep.py", "sweep=nope", cwd=tmp_path)
    assert done.returncode == 2
    [line] = done.stderr.splitlines()
    assert line == f"error: sweep=nope is not an option; allowed: {', '.join(options('sweep'))}"
