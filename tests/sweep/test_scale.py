"""Large sweeps: bounded chunks of trials per Ray task and of results per call to the store,
grid points composed as Hydra would."""

import pytest
from hydra import compose

from trainer.config.compose import hydra_context, to_plain, trial_config
from trainer.sweep.plan.grid import Trial, expand
from trainer.sweep.run.batching import MOST_PER_CALL, Batcher
from trainer.sweep.run.ray_tasks import MAX_TRIALS_PER_TASK, chunks


def trials(count: int) -> list[Trial]:
    return [Trial(f"t{i}", {}, []) for i in range(count)]


@pytest.mark.parametrize(("count", "per_task"), [(10_000, None), (10_000, 5000), (300, None)])
def test_no_ray_task_carries_more_than_the_bound(count, per_task):
    split = chunks(trials(count), cpus=2, per_task=per_task)
    assert max(len(chunk) for chunk in split) <= MAX_TRIALS_PER_TASK
    assert [t.trial_id for chunk in split for t in chunk] == [f"t{i}" for i in range(count)]


def test_a_small_sweep_still_spreads_over_four_tasks_per_cpu():
    assert [len(chunk) for chunk in chunks(trials(32), cpus=2, per_task=None)] == [4] * 8


def test_fast_composition_matches_hydra_for_lists_and_interpolations():
    cli = [
        "task=digits_mlp",
        "task.hidden=[16],[8,8]",
        "optimizer=sgd,adam",
        "optimizer.lr=0.01,0.1",
        "trainer.steps=30,40",
        "trainer.eval_every=${trainer.steps}",
    ]
    with hydra_context() as loader:
        grid = expand({}, cli, loader)
        assert len(grid.trials) == 16
        for trial in grid.trials:
            expected = trial_config(to_plain(compose(config_name="train", overrides=trial.point)))
            assert trial.config == expected
            assert trial.config["trainer"]["eval_every"] == trial.config["trainer"]["steps"]


def test_the_driver_sends_every_result_once_in_order_the_first_alone():
    batcher = Batcher()
    results = list(range(200))
    sent = list(batcher.slices(results))
    assert len(sent[0]) == 1
    assert [r for some in sent for r in some] == results
    assert max(len(some) for some in sent) <= MOST_PER_CALL
