"""A mistake on the command line: exit code 2, one line saying what is allowed, nothing run."""

import runpy
import sys
from pathlib import Path

import pytest
from entry import run_main

from trainer.config import cli

TRAIN_SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "train.py"
OPTIMIZERS = ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"]
TASKS = ["quadratic", "rosenbrock", "linear_regression", "logistic_regression", "digits_mlp"]

# name -> (overrides, fragments the one line must hold, compared case-insensitively)
BAD_VALUES = {
    "lr_not_a_number": (["optimizer.lr=abc"], ["optimizer.lr", "abc", "float"]),
    "lr_zero": (["optimizer.lr=0"], ["optimizer.lr=0", "> 0"]),
    "lr_negative": (["optimizer.lr=-1"], ["optimizer.lr=-1", "> 0"]),
    "momentum_negative": (["optimizer.momentum=-0.5"], ["optimizer.momentum=-0.5", "[0, 1)"]),
    "momentum_one": (["optimizer.momentum=1.0"], ["optimizer.momentum=1", "[0, 1)"]),
    "rho_above_one": (["optimizer=rmsprop", "optimizer.rho=1.5"], ["optimizer.rho=1.5", "(0, 1)"]),
    "delta_zero": (["optimizer=adagrad", "optimizer.delta=0"], ["optimizer.delta=0", "> 0"]),
    "steps_zero": (["trainer.steps=0"], ["trainer.steps=0", "> 0"]),
    "batch_above_data": (
        ["task=digits_mlp", "trainer.batch_size=5000"],
        ["trainer.batch_size=5000", "1437"],
    ),
    "unknown_optimizer": (["optimizer=foo"], ["optimizer=foo", *OPTIMIZERS]),
    "unknown_task": (["task=bar"], ["task=bar", *TASKS]),
    "unknown_key": (["optimizer.foo=1"], ["optimizer.foo"]),
    "malformed_bracket": (["optimizer.lr=[1,2"], ["optimizer.lr=[1,2"]),
}


@pytest.mark.parametrize("name", list(BAD_VALUES))
def test_a_bad_value_exits_2_with_one_line_and_writes_nothing(capfd, tmp_path, name):
    # Through the script's own entry point, in this process (entry.py); tests/faults/
    # test_bad_input.py launches train.py itself for a few mistakes.
    done = run_main("train.py", *BAD_VALUES[name][0], cwd=tmp_path, capfd=capfd)
    output = done.stdout + done.stderr
    assert "Traceback" not in output, output
    assert done.returncode == 2, output
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].strip(), done.stderr
    for fragment in BAD_VALUES[name][1]:
        assert fragment.lower() in lines[0].lower(), (fragment, lines[0])
    assert done.stdout == ""
    # Nothing started: no store (mlflow.db is the default), no artifacts, no Hydra outputs.
    assert list(tmp_path.iterdir()) == []


# More of Hydra's grammar a user can get wrong, through the script's own entry point in this
# process as well: the same code from argv to exit code.
MORE_BAD_VALUES = {
    "empty_optimizer": (["optimizer="], ["optimizer", *OPTIMIZERS]),
    "unknown_key_added": (["+optimizer.foo=1"], ["optimizer", "foo"]),
    "group_deleted": (["~optimizer"], ["optimizer"]),
    "malformed_empty_key": (["=3"], ["=3"]),
    # With val_fraction 0.2, one row leaves none to train on: the line should blame task.n.
    "no_training_rows": (["task=linear_regression", "task.n=1"], ["task.n=1"]),
    "empty_experiment": (["tracking.experiment=", "trainer.steps=5"], ["tracking.experiment"]),
}


@pytest.mark.parametrize("name", list(MORE_BAD_VALUES))
def test_more_bad_values_exit_2_with_one_line(monkeypatch, capsys, tmp_path, name):
    overrides, fragments = MORE_BAD_VALUES[name]
    script = runpy.run_path(str(TRAIN_SCRIPT), run_name="train_script")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", [str(TRAIN_SCRIPT), *overrides])
    with pytest.raises(SystemExit) as exit_info:
        cli.run(script["main"], script["USAGE"])
    out, err = capsys.readouterr()
    assert exit_info.value.code == 2, err
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].strip(), err
    for fragment in fragments:
        assert fragment.lower() in lines[0].lower(), (fragment, lines[0])
    assert out == ""
    assert list(tmp_path.iterdir()) == []
