"""The trial table's parts: read back exactly, a torn one refused, pandas reading them."""

import math

import numpy as np
import pytest

from trainer import contract
from trainer.sweep.record.children import Data, Info
from trainer.sweep.record.mlflow.parts import TableTrial, TornPart, from_part, table_frame, to_part
from trainer.sweep.record.mlflow.table_runs import current, part_name, part_order, table_trial
from trainer.sweep.record.rows import Row
from trainer.training.result import Divergence, Result


def trial(name: str, tags: dict, params: dict, metrics: dict, steps=(), losses=()) -> TableTrial:
    return TableTrial(
        Info("parent", name, "FINISHED"),
        Data(tags, params, metrics),
        np.array(steps, dtype=np.int64),
        np.array(losses, dtype=np.float64),
    )


TRIALS = [
    trial(
        "sgd lr=0.1",
        {contract.TRIAL_ID: "a", contract.OUTCOME: "converged"},
        {"optimizer.lr": "0.1", "optimizer.name": "sgd"},
        {contract.FINAL_TRAIN_LOSS: 1e-300},
        [0, 7, 9],
        [3.0, 0.5, 1 / 3],
    ),
    trial(  # lacks a param and a metric the other has; diverged, its last loss not finite
        "momentum lr=2 m=0.9",
        {contract.TRIAL_ID: "b", contract.OUTCOME: "diverged", contract.DIVERGENCE_STEP: "4"},
        {"optimizer.lr": "2", "optimizer.momentum": "0.9"},
        {contract.FINAL_TRAIN_LOSS: math.inf, contract.DIVERGED_METRIC: 1.0},
        [0, 1, 2, 3, 4],
        [3.0, 9.0, 81.0, 1e200, math.inf],
    ),
    trial("failed", {contract.TRIAL_ID: "c"}, {"optimizer.lr": "0.5"}, {}),  # no steps at all
]


def test_a_part_reads_back_every_trial_exactly_with_finite_metrics_as_mlflow_keeps_them():
    back = from_part(to_part(TRIALS), "parent")
    assert [t.info.run_name for t in back] == [t.info.run_name for t in TRIALS]
    for written, read in zip(TRIALS, back, strict=True):
        assert read.data.tags == written.data.tags
        assert read.data.params == written.data.params
        finite = {k: v for k, v in written.data.metrics.items() if math.isfinite(v)}
        assert read.data.metrics == finite  # bit for bit: 1e-300 too
        np.testing.assert_array_equal(read.steps, written.steps)
        np.testing.assert_array_equal(read.losses, written.losses)
    assert back[0].info.run_id == "parent" and back[0].info.status == "FINISHED"


def test_a_curve_read_back_is_nan_at_the_steps_not_tracked():
    curve = from_part(to_part(TRIALS))[0].curve()
    assert curve.size == 10 and curve[7] == 0.5 and np.isnan(curve[1:7]).all()
    assert from_part(to_part(TRIALS))[2].curve().size == 0


@pytest.mark.parametrize("cut", [0, 10, 200, -1])
def test_a_torn_part_is_refused_not_misread(cut):
    data = to_part(TRIALS)
    with pytest.raises(TornPart):
        from_part(data[:cut] if cut >= 0 else b"not a part at all")


def test_the_last_record_of_a_trial_counts_and_a_marker_supersedes_it():
    again = trial("sgd lr=0.1", {contract.TRIAL_ID: "a", "attempt": "2"}, {}, {})
    marker = trial("", {contract.TRIAL_ID: "b", contract.SUPERSEDED: "true"}, {}, {})
    found = current([*TRIALS, again, marker])
    assert set(found) == {"a", "c"} and found["a"].data.tags["attempt"] == "2"


def test_parts_are_named_in_order_and_by_writer():
    assert part_name(3, "beef") == "part-00003-beef.npz"
    assert part_order("part-00003-beef.npz") == (3, "beef")
    assert part_order("part-3.npz") is None and part_order("heatmap.png") is None
    names = [part_name(10, "a"), part_name(9, "b")]
    assert sorted(names) == names[::-1]


def test_a_result_becomes_the_row_its_child_run_would_give():
    config = {
        "optimizer": {"name": "sgd", "lr": 0.5},
        "trainer": {"steps": 30, "log_every": 10, "seed": 3},
    }
    losses = np.linspace(3.0, 1.0, 12)
    losses[-1] = math.inf
    result = Result(
        config,
        "diverged",
        losses,
        final={contract.FINAL_TRAIN_LOSS: math.inf},
        divergence=Divergence(11, "loss is not finite", 1.2, math.inf),
        wall_time=0.25,
        trial_id="t",
        population=4,
    )
    [read] = from_part(to_part([table_trial(result, "sgd lr=0.5", {"search.note": "x"}, "p")]))
    row = Row.from_run(read, read.curve())
    assert (row.trial_id, row.name, row.outcome) == ("t", "sgd lr=0.5", "diverged")
    assert (row.divergence_step, row.divergence_reason) == (11, "loss is not finite")
    assert row.final == {} and row.params["trainer.seed"] == "3" and row.wall_time == 0.25
    assert read.data.tags[contract.POPULATION] == "4" and read.data.tags["search.note"] == "x"
    # Every 10th step, the last, and the 10 before the divergence: here all but none of 0..11.
    assert read.steps.tolist() == list(range(12))
    np.testing.assert_array_equal(row.curve, losses)


def test_pandas_reads_parts_as_one_frame_a_row_per_trial():
    frame = table_frame([to_part(TRIALS[:2]), to_part(TRIALS[2:])])
    assert list(frame["name"]) == [t.info.run_name for t in TRIALS]
    assert frame["param:optimizer.lr"].tolist() == ["0.1", "2", "0.5"]
    assert frame["metric:final_train_loss"].iloc[0] == 1e-300
