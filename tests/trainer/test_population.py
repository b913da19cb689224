"""A population of trials trained as one program computes, member by member, its serial twins."""

import numpy as np
import pytest

from trainer.config.compose import compose_config, hydra_context, to_plain, trial_config
from trainer.sweep.plan.grid import Trial, expand
from trainer.sweep.run.populations import population_chunks, populations
from trainer.training.loop import train
from trainer.training.population import population_key, train_population
from trainer.training.trial import run_population

# name -> (task and optimizer, learning rates, seeds, steps): each population holds members that
# converge and members that diverge, by a loss above the factor, a non-finite loss or parameter.
Q, R, D = "task=quadratic", "task=rosenbrock", "task=digits_mlp"
LIN, LOG = "task=linear_regression", "task=logistic_regression"
EVAL_7, FACTOR_3 = "trainer.eval_every=7", "trainer.divergence.factor=3"
POPULATIONS = {
    "quadratic-momentum": ([Q, "optimizer=momentum"], [1e-3, 0.05, 0.1, 0.2, 1e200], (0,), 300),
    "quadratic-nesterov": ([Q, "optimizer=nesterov"], [1e-3, 0.01, 0.05], (0,), 200),
    # Just past the edge lr = 2 / 50: diverging at steps 209, 1034 and 2065, before and after the
    # records' first block of 1,024 steps is written out, while the others train on.
    "quadratic-long": ([Q, "optimizer=sgd"], [1e-3, 0.0405, 0.0401, 0.04005], (0,), 2500),
    # 1e160: the loss overflows at step 1; 1e307: the point at step 0, the loss still finite.
    "quadratic-overflow": ([Q, "optimizer=sgd"], [1e-3, 0.01, 1e160, 1e307], (0,), 20),
    "rosenbrock-adam": ([R, "optimizer=adam"], [1e-3, 0.1, 3.0, 10.0], (0,), 300),
    "rosenbrock-sgd": ([R, "optimizer=sgd"], [1e-4, 1e-3, 3e-3, 0.01], (0,), 300),
    "linear-sgd": ([LIN, "optimizer=sgd"], [0.01, 0.1, 1.0, 3.0], (0, 1), 200),
    "logistic-rmsprop": ([LOG, "optimizer=rmsprop"], [1e-3, 10.0, 1e4], (0, 1, 2), 150),
    "logistic-adagrad": ([LOG, "optimizer=adagrad", EVAL_7], [0.01, 1e6], (0, 3), 50),
    "digits-momentum": ([D, "optimizer=momentum", FACTOR_3], [0.01, 1.0, 10.0], (0, 1), 40),
}  # fmt: skip


def compose_trial(overrides) -> dict:
    with hydra_context():
        return trial_config(to_plain(compose_config("train", list(overrides))))


def grid_configs(cli) -> list[dict]:
    """The trial configs of the grid `cli`, composed as a sweep composes its points (equal to
    `compose_trial` of each point: tests/sweep/test_grid.py), learning rate by learning rate."""
    with hydra_context() as loader:
        return [trial.config for trial in expand({}, list(cli), loader).trials]


def members(name: str) -> list[dict]:
    base, lrs, seeds, steps = POPULATIONS[name]
    axes = [f"optimizer.lr={','.join(map(str, lrs))}", f"trainer.seed={','.join(map(str, seeds))}"]
    configs = grid_configs([*base, *axes, f"trainer.steps={steps}"])
    assert len(configs) == len(lrs) * len(seeds)
    return configs


def assert_same(serial, member) -> None:
    """Bit for bit: the curve, the divergence's step, reason and values, evaluations, finals."""
    assert member.outcome == serial.outcome and member.divergence == serial.divergence
    np.testing.assert_array_equal(member.train_loss, serial.train_loss)
    assert member.evals == serial.evals and member.final == serial.final
    if serial.trajectory is None:
        assert member.trajectory is None
    else:
        np.testing.assert_array_equal(member.trajectory, serial.trajectory)


@pytest.mark.parametrize("name", POPULATIONS)
def test_each_member_computes_exactly_what_its_serial_run_computes(name):
    configs = members(name)
    assert len({population_key(c) for c in configs}) == 1
    results, _ = train_population(configs)
    for config, member in zip(configs, results, strict=True):
        assert_same(train(config), member)
        assert member.population == len(configs)
    outcomes = {r.outcome for r in results}
    assert "converged" in outcomes and "diverged" in outcomes, outcomes


def test_divergence_is_found_for_each_member_by_its_own_reason_and_step():
    """Members diverging at different steps for different reasons, in one population: each is
    recorded at its own step with its own reason; the others train on undisturbed."""
    results, _ = train_population(members("quadratic-momentum"))
    found = [(r.divergence.step, r.divergence.reason) for r in results if r.divergence]
    assert len({step for step, _ in found}) == len(found) == 3, found
    assert {reason.split(" ")[0] for _, reason in found} == {"loss", "non-finite"}, found
    assert [r.outcome for r in results][:2] == ["converged", "converged"]


def test_a_member_whose_point_overflows_is_found_by_its_parameter_while_its_loss_is_finite():
    results, _ = train_population(members("quadratic-overflow"))
    found = [(r.divergence.step, r.divergence.reason) for r in results if r.divergence]
    assert found == [(1, "non-finite loss"), (0, "non-finite parameter")]


@pytest.mark.parametrize("name", ["quadratic-momentum", "logistic-adagrad", "digits-momentum"])
def test_rungs_resumed_from_population_checkpoints_equal_one_run_to_the_last(name):
    """Halving's rungs: a population trained on from its members' checkpoints, or each member
    alone from them, or a population from serial checkpoints, all equal one fresh run."""

    def at(configs, steps):
        return [{**c, "trainer": {**c["trainer"], "steps": steps}} for c in configs]

    configs = members(name)
    full = configs[0]["trainer"]["steps"]
    fresh = [train(c) for c in configs]
    first, _ = train_population(at(configs, 4), keep=True)
    kept = [r.checkpoint for r in first]
    assert [k is None for k in kept] == [r.outcome == "diverged" for r in first]
    going = [i for i, k in enumerate(kept) if k is not None]
    go = [configs[i] for i in going]
    second, _ = train_population(at(go, 12), [kept[i] for i in going], keep=True)
    alive = [j for j, r in enumerate(second) if r.checkpoint is not None]
    third, _ = train_population(
        at([go[j] for j in alive], full), [second[j].checkpoint for j in alive]
    )
    for j, member in zip(alive, third, strict=True):
        assert_same(fresh[going[j]], member)
        alone = train(go[j], resume=second[j].checkpoint)
        assert_same(fresh[going[j]], alone)
    serial_kept = [train(c, keep=True).checkpoint for c in at(go, 12)]
    pairs = [(j, k) for j, k in enumerate(serial_kept) if k is not None]
    last, _ = train_population(at([go[j] for j, _ in pairs], full), [k for _, k in pairs])
    for (j, _), member in zip(pairs, last, strict=True):
        assert_same(fresh[going[j]], member)


def test_runs_that_cannot_share_a_program_train_alone():
    base = ["task=quadratic", "optimizer=sgd"]
    ranged = compose_trial(base)
    ranged["range_test"] = {"low": 1e-5, "high": 10.0, "stop": 4.0}
    assert population_key(ranged) is None
    user_rule = compose_trial(
        [*base, "optimizer._target_=custom_optimizers.SignSGD", "optimizer.name=sign_sgd"]
    )
    assert population_key(user_rule) is None
    # Different step budgets, batch sizes or optimizers are different populations.
    keys = {
        population_key(compose_trial([*base, "trainer.steps=10"])),
        population_key(compose_trial([*base, "trainer.steps=20"])),
        population_key(compose_trial(["task=quadratic", "optimizer=adam"])),
        population_key(compose_trial(["task=linear_regression", "trainer.batch_size=8"])),
        population_key(compose_trial(["task=linear_regression", "trainer.batch_size=16"])),
    }
    assert len(keys) == 5 and None not in keys
    four = grid_configs([*base, "optimizer.lr=0.1,0.2", "trainer.seed=0,1"])
    assert len(four) == 4 and len({population_key(c) for c in four}) == 1


def trials(configs, keep=False) -> list[Trial]:
    return [Trial(f"t{i}", c, [f"trial-{i}"], keep=keep) for i, c in enumerate(configs)]


def test_a_sweeps_trials_are_grouped_by_population_and_each_split_across_the_cpus():
    lrs = ",".join(map(str, np.linspace(0.01, 0.03, 9)))
    quadratic = grid_configs(["task=quadratic", f"optimizer.lr={lrs}"])
    assert len(quadratic) == 9
    adam = [
        compose_trial(["task=rosenbrock", "optimizer=adam", f"optimizer.lr={lr}"])
        for lr in (0.01, 0.1)
    ]
    ranged = compose_trial(["task=quadratic"])
    ranged["range_test"] = {"low": 1e-5, "high": 10.0, "stop": 4.0}
    mixed = trials([*quadratic[:4], *adam, ranged, *quadratic[4:]])
    groups = populations(mixed)
    assert [[t.trial_id for t in g] for g in groups] == [
        ["t0", "t1", "t2", "t3", "t7", "t8", "t9", "t10", "t11"], ["t4", "t5"], ["t6"]]  # fmt: skip
    chunks = population_chunks(mixed, cpus=2, per_task=None, alone=lambda ts, c, p: [ts])
    assert [len(c) for c in chunks] == [5, 4, 1, 1, 1]
    # Dealt back and forth, so each task gets low and high learning rates alike.
    assert [t.trial_id for t in chunks[0]] == ["t0", "t3", "t7", "t10", "t11"]
    assert sorted(t.trial_id for c in chunks for t in c) == sorted(t.trial_id for t in mixed)
    # Rungs that keep their state train apart from trials that do not.
    kept = trials(quadratic[:2], keep=True) + trials(quadratic[2:4])
    assert [len(g) for g in populations(kept)] == [2, 2]


def test_a_population_that_raises_becomes_trials_run_alone_each_with_its_own_outcome():
    broken = ["task=quadratic", "optimizer=sgd", "optimizer._target_=custom_optimizers.BrokenSGD"]
    configs = [
        compose_trial([*broken, "optimizer.name=broken", f"optimizer.lr={lr}"])
        for lr in (0.01, 0.5)
    ]
    results = run_population(configs, ["a", "b"], draw=False)
    assert [r.trial_id for r in results] == ["a", "b"]
    assert [r.outcome for r in results] == ["converged", "failed"]
    assert "BrokenSGD cannot take lr=0.5" in results[1].error
