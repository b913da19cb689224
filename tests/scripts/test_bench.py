"""scripts/bench.py autodiff: the two timed steps compute the same thing, and the CLI runs."""

import importlib.util
import re

import numpy as np
import pytest
from support import REPO, run_script

BENCH = REPO / "scripts" / "bench.py"


@pytest.fixture
def bench(monkeypatch):
    """scripts/bench.py as a module; its sibling modules import as they do when it runs."""
    monkeypatch.syspath_prepend(str(BENCH.parent))
    spec = importlib.util.spec_from_file_location("bench_under_test", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_engine_and_hand_written_steps_agree(bench):
    engine, engine_params = bench._make_side("engine", 16, [8, 12, 5])
    hand, hand_params = bench._make_side("hand", 16, [8, 12, 5])
    for a, b in zip(engine_params, hand_params, strict=True):
        np.testing.assert_array_equal(a, b)
    losses = [(float(engine()), float(hand())) for _ in range(5)]
    for engine_loss, hand_loss in losses:
        assert abs(engine_loss - hand_loss) <= 1e-12
    assert losses[-1][0] < losses[0][0]  # the step does train
    for a, b in zip(engine_params, hand_params, strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)


@pytest.mark.slow
@pytest.mark.parametrize("extra", [[], ["--glibc-heap"]], ids=["heap_kept", "glibc_heap"])
def test_cli_prints_both_cases(extra, tmp_path):
    args = ["autodiff", "--blocks", "2", "--steps", "3", "--warmup", "1", *extra]
    done = run_script("bench.py", *args, cwd=tmp_path, timeout=120)
    assert done.returncode == 0, done.stderr
    rows = [line.split() for line in done.stdout.splitlines() if line.strip()[:1].isdigit()]
    assert [row[0] for row in rows] == ["64", "256"]
    for row in rows:
        engine_us, hand_us, ratio = (float(v) for v in row[4:7])
        assert engine_us > 0 and hand_us > 0
        assert abs(ratio - engine_us / hand_us) < 0.01 * ratio + 0.01


@pytest.mark.parametrize("name", ["quadratic", "rosenbrock"])
def test_engine_and_hand_written_task_steps_agree(bench, name):
    lr, alpha = {case[0]: case[1:3] for case in bench.TASK_CASES}[name]
    engine, engine_params = bench._make_task_side("engine", name, lr, alpha)
    hand, hand_params = bench._make_task_side("hand", name, lr, alpha)
    np.testing.assert_array_equal(engine_params[0], hand_params[0])
    losses = [(float(engine()), float(hand())) for _ in range(200)]
    for engine_loss, hand_loss in losses:
        assert engine_loss == pytest.approx(hand_loss, rel=1e-12)
    assert losses[-1][0] < 0.9 * losses[0][0]  # the step does train
    np.testing.assert_allclose(engine_params[0], hand_params[0], rtol=1e-12)


@pytest.mark.slow  # scripts/bench.py launched
def test_cli_in_one_process_prints_every_case_beside_its_goal(tmp_path):
    args = ["autodiff", "--blocks", "2", "--steps", "3", "--warmup", "1", "--one-process"]
    done = run_script("bench.py", *args, cwd=tmp_path, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "both sides in one process" in done.stdout
    rows = {line.split()[0]: line.split() for line in done.stdout.splitlines() if "<=" in line}
    assert sorted(rows) == ["256", "64", "quadratic", "rosenbrock"]
    goals = {"64": "<=1.3", "256": "<=1.05", "quadratic": "<=3", "rosenbrock": "<=3"}
    for name, row in rows.items():
        at = row.index(goals[name])
        engine_us, hand_us, ratio = (float(v) for v in row[at - 3 : at])
        # Each is printed to 0.1 us, and a task's hand step takes a few us: allow for rounding.
        rounding = ratio * (0.05 / engine_us + 0.05 / hand_us) + 0.005
        assert abs(ratio - engine_us / hand_us) <= rounding * 1.01
        assert row[at + 1] in ("ok", "MISSED")


def test_the_serial_baseline_trains_as_the_engine_does(bench):
    """bench.py sweep's (c): the hand-written loop computes the trials the sweep runs."""
    import bench_serial
    import bench_sweep

    from trainer.tasks.digits_mlp import split_digits
    from trainer.training.loop import train

    configs = [
        c for c in bench_sweep.trial_configs() if c["optimizer"]["lr"] < 0.1
    ]  # below the chaotic learning rates, where last-digit rounding grows
    setup = {**bench_sweep.serial_setup(configs), "steps": 40}
    data = split_digits(setup["val_fraction"], setup["data_seed"])
    for config, (lr, momentum) in zip(configs, setup["points"], strict=True):
        config = {**config, "trainer": {**config["trainer"], "steps": 40, "eval_every": 40}}
        engine = train(config)
        hand = bench_serial.train(setup, lr, momentum, data)
        assert hand["final_train_loss"] == pytest.approx(engine.final["final_train_loss"], 1e-12)
        assert hand["val_loss"] == pytest.approx(engine.final["final_val_loss"], 1e-12)


@pytest.mark.slow
def test_sweep_cli_times_the_sweep_against_both_loops(tmp_path):
    args = ["sweep", "--skip-tune", "--repeats", "1"]
    done = run_script("bench.py", *args, cwd=tmp_path, timeout=240)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    for row in ("(a) gradsweep", "(c) serial hand-written loop", "(d) serial engine loop"):
        assert re.search(re.escape(row) + r"\s+\d+\.\d s", out), out
    assert re.search(r"\(a\)/\(c\) = \d+\.\d\d", out), out
    # The hand-written loop computes what the sweep logged, but for the chaotic learning rates.
    equal = re.search(r"equal to 1e-9 on (\d+) of 32 converged", out)
    assert equal and int(equal.group(1)) >= 24, out


def test_the_searches_comparison_counts_full_runs_until_the_target(bench, capsys):
    from bench_searches import SEARCHES

    # A target every converged trial meets: each search's cost is its first converged trial.
    bench.main(["searches", "--trials", "6", "--steps", "50", "--seeds", "1", "--target", "1e9"])
    lines = {line.split()[0]: line.split() for line in capsys.readouterr().out.splitlines()[2:]}
    assert set(lines) == set(SEARCHES)
    for search, cells in lines.items():
        cost = float(cells[1])
        assert 0 < cost <= 6 and cells[2] == "1/1", (search, cells)


def test_the_default_sweep_ratio_is_of_medians_and_each_spread_is_shown(capsys, monkeypatch):
    monkeypatch.syspath_prepend(str(BENCH.parent))
    import bench_vectorize

    times = {
        bench_vectorize.FLOOR_NAME: [5.0, 6.2, 5.1],  # Ray's start: a second more, or not
        "default sweep": [8.0, 8.4, 9.1],
        bench_vectorize.HAND: [2.6, 2.7, 2.5],
    }
    args = type("Args", (), {"cpus": 2, "repeats": 3, "default_only": True})()
    bench_vectorize.report(times, args, "")
    lines = capsys.readouterr().out.splitlines()
    assert "(5.0 to 6.2)" in lines[1] and "beyond the floor    3.3 s" in lines[2]
    assert lines[-1].split()[-4] == f"{(8.4 - 5.1) / 2.6:.2f}"  # medians, not means
