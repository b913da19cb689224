"""The store contract: what the sweep engine relies on of every Store, as one suite of tests.

As Hydra's LauncherTestSuite is for launchers, a store is a store when a subclass of
`StoreContract` naming it passes (test_store_contract.py holds one per store). A subclass
provides the fixture `opener`: an object with `open(grid)` -> the Store as the driver opens it
(through trainer.sweep.record.open.open_store), `client()` -> an MlflowClient of the same store
(None for a store that records nothing) and `experiment`. What a store recorded is read back
through `recorded` (trainer.sweep.record.mlflow.reader), whatever form holds the trials: a child
run per trial, or the parent's trial table (tracking.children=false): record_forms.py.
"""

import math
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest
from record_forms import ChildRunForm, recorded
from support import parents

from trainer import contract
from trainer.config.compose import hydra_context
from trainer.config.errors import ConfigError
from trainer.sweep.plan.grid import expand
from trainer.sweep.record.store import ParentSummary, Store
from trainer.training.result import CONVERGED, DIVERGED, FAILED
from trainer.training.trial import run_trial

# Two trials that converge and one that diverges at once (lr far past 2 / lambda_max).
GRID = ["task=quadratic", "optimizer=sgd", "optimizer.lr=0.01,0.02,30", "trainer.steps=20"]
NAMES = ["slow", "fast", "blows up"]
TAGS = [{"search.note": "a"}, {"search.note": "b"}, {}]
OTHER_DRIVER = "elsewhere:4242:cafe"


class Sweep:
    """A small sweep and its results, trained in this process but not logged."""

    def __init__(self):
        with hydra_context() as loader:
            self.grid = expand({}, GRID, loader)
        self.results = [run_trial(t.config, t.trial_id) for t in self.grid.trials]


@pytest.fixture(scope="module")
def sweep() -> Sweep:
    return Sweep()


class StoreContract(ChildRunForm):
    """Every store passes these; `records` is False for the store that records nothing, and
    `artifacts` is how the URIs of a store's artifacts start (mlflow-artifacts: for a server's)."""

    records = True
    artifacts = "file:"

    def test_every_store_implements_the_one_interface(self, opener, sweep):
        store = opener.open(sweep.grid)
        try:
            assert isinstance(store, Store)
        finally:
            store.close()

    def test_a_new_sweep_has_nothing_finished_and_the_store_answers(self, opener, sweep):
        store = opener.open(sweep.grid)
        try:
            assert dict(store.finished) == {} and store.superseded == 0
            down, seconds, parent_id = store.status()
            assert down is None and seconds >= 0
            assert (parent_id is not None) == self.records
            assert (store.experiment() is not None) == self.records
        finally:
            store.close()

    def test_each_result_is_recorded_once_and_read_back_by_the_next_invocation(self, opener, sweep):
        store = opener.open(sweep.grid)
        assert store.log_many(sweep.results, NAMES, TAGS) == 0
        store.close()
        again = opener.open(sweep.grid)
        try:
            if not self.records:
                assert dict(again.finished) == {} and again.earlier_rows() == []
                return
            assert set(again.finished) == {t.trial_id for t in sweep.grid.trials}
            for result, name in zip(sweep.results, NAMES, strict=True):
                row = again.finished[result.trial_id]
                assert (row.name, row.outcome) == (name, result.outcome)
                finite = {k: v for k, v in result.final.items() if math.isfinite(v)}
                assert row.final == pytest.approx(finite, rel=1e-12)
            curves = {row.trial_id: row.curve for row in again.earlier_rows(read_curves=True)}
            for result in sweep.results:
                np.testing.assert_array_equal(curves[result.trial_id], result.train_loss)
            assert {row.curve.size for row in again.earlier_rows(read_curves=False)} == {0}
            parent_id = again.status()[2]
        finally:
            again.close()
        runs = recorded(opener.client(), parent_id)
        assert sorted(run.info.run_name for run in runs) == sorted(NAMES)
        assert {run.info.status for run in runs} == {"FINISHED"}

    def test_a_diverged_trial_is_recorded_as_a_result_with_its_step_and_reason(self, opener, sweep):
        diverged = sweep.results[2]
        assert diverged.outcome == DIVERGED  # the grid is built so
        store = opener.open(sweep.grid)
        assert store.log(diverged, "blows up")
        parent_id = store.status()[2]
        store.close()
        if not self.records:
            return
        [run] = recorded(opener.client(), parent_id)
        tags = run.data.tags
        assert run.info.status == "FINISHED" and tags[contract.OUTCOME] == DIVERGED
        assert int(tags[contract.DIVERGENCE_STEP]) == diverged.divergence.step
        assert tags[contract.DIVERGENCE_REASON] == diverged.divergence.reason
        assert all(math.isfinite(value) for value in run.data.metrics.values())

    def test_each_child_carries_its_name_extra_tags_and_provenance(self, opener, sweep):
        store = opener.open(sweep.grid)
        store.log_many(sweep.results[:2], NAMES[:2], TAGS[:2])
        parent_id = store.status()[2]
        store.close()
        if not self.records:
            return
        runs = {r.info.run_name: r for r in recorded(opener.client(), parent_id)}
        for name, tags, result in zip(NAMES[:2], TAGS[:2], sweep.results, strict=False):
            carried = runs[name].data.tags
            assert carried[contract.TRIAL_ID] == result.trial_id
            assert carried[contract.PARENT_RUN_ID] == parent_id
            assert carried["search.note"] == tags["search.note"]
            assert carried[contract.CODE_FINGERPRINT]

    def test_the_parent_ends_finished_with_its_summary(self, opener, sweep):
        store = opener.open(sweep.grid)
        store.log_many(sweep.results, NAMES, TAGS)
        summary = ParentSummary(
            metrics={"trials": 3.0},
            tags={"sweep.metric": "final_train_loss"},
            files={"summary.txt": b"three trials"},
            pictures=["summary.txt"],
        )
        store.finish(summary, elapsed=1.5)
        parent_id = store.status()[2]
        store.close()
        if not self.records:
            return
        client = opener.client()
        parent = client.get_run(parent_id)
        assert parent.info.status == "FINISHED"
        assert parent.data.metrics["trials"] == 3.0
        assert parent.data.metrics[contract.WALL_TIME_S] == 1.5
        assert contract.LOGGING_S in parent.data.metrics
        assert parent.data.tags["sweep.metric"] == "final_train_loss"
        assert "summary.txt" in parent.data.tags[contract.NOTE]
        assert "summary.txt" in {f.path for f in client.list_artifacts(parent_id)}

    def test_an_aborted_sweep_ends_its_parent_killed_with_the_reason(self, opener, sweep):
        store = opener.open(sweep.grid)
        store.log(sweep.results[0], NAMES[0])
        store.abort("KILLED", "interrupted by Ctrl-C")
        parent_id = store.status()[2]
        store.close()
        if not self.records:
            return
        parent = opener.client().get_run(parent_id)
        assert parent.info.status == "KILLED"
        assert parent.data.tags[contract.FAILURE_REASON] == "interrupted by Ctrl-C"

    def test_a_run_cut_short_is_redone_and_not_counted(self, opener, sweep):
        store = opener.open(sweep.grid)
        store.log(sweep.results[0], NAMES[0])
        parent_id = store.status()[2]
        store.close()
        if not self.records:
            return
        client = opener.client()
        cleared = self.cut_short(client, parent_id, sweep.results[1], NAMES[1])
        again = opener.open(sweep.grid)
        again.close()
        assert set(again.finished) == {sweep.results[0].trial_id}
        assert [run.info.run_name for run in recorded(client, parent_id)] == [NAMES[0]]
        assert cleared()
        redo = opener.open(sweep.grid)  # the trial cut short, logged again: counted once
        redo.log(sweep.results[1], NAMES[1])
        redo.close()
        names = sorted(run.info.run_name for run in recorded(client, parent_id))
        assert names == sorted(NAMES[:2])

    def test_a_trial_logged_by_other_code_is_superseded_not_finished(self, opener, sweep):
        store = opener.open(sweep.grid)
        store.log(sweep.results[0], NAMES[0])
        parent_id = store.status()[2]
        store.close()
        if not self.records:
            return
        client = opener.client()
        self.relabel(client, parent_id, "0123456789abcdef")
        again = opener.open(sweep.grid)
        again.close()
        assert dict(again.finished) == {} and again.superseded == 1
        assert recorded(client, parent_id) == []  # superseded: no longer counted
        third = opener.open(sweep.grid)  # and not superseded twice
        third.close()
        assert dict(third.finished) == {} and third.superseded == 0

    def test_a_second_driver_is_refused_while_the_first_holds_the_sweep(self, opener, sweep):
        store = opener.open(sweep.grid)
        parent_id = store.status()[2]
        store.close()
        if not self.records:
            return
        client = opener.client()
        # Another live driver's lease: fresh heartbeat, another host.
        now = f"{time.time():.3f}"
        for key, value in (
            (contract.LEASE_OWNER, OTHER_DRIVER),
            (contract.LEASE_SINCE, now),
            (contract.LEASE_HEARTBEAT, now),
        ):
            client.set_tag(parent_id, key, value)
        with pytest.raises(ConfigError, match=f"another driver \\({OTHER_DRIVER}\\)"):
            opener.open(sweep.grid)
        assert [r for r in parents(client, opener.experiment) if r.info.run_id != parent_id] == []

    def test_spooled_results_are_logged_under_their_own_names_and_tags(self, opener, sweep):
        store = opener.open(sweep.grid)
        if not self.records:  # nothing is ever spooled: there is no store to be away
            assert store.spool.entries() == [] and store.drain() == 0
            store.close()
            return
        store.spool.append(sweep.results[0], "from the spool", {"search.note": "spooled"})
        store.spool.append(sweep.results[1])  # no name yet: logged when a search proposes it
        assert store.drain() == 0
        left = [entry.trial_id for entry in store.spool.entries()]
        parent_id = store.status()[2]
        store.close()
        assert left == [sweep.results[1].trial_id]
        [run] = recorded(opener.client(), parent_id)
        assert run.info.run_name == "from the spool"
        assert run.data.tags["search.note"] == "spooled"
        assert run.data.tags[contract.TRIAL_ID] == sweep.results[0].trial_id

    def test_a_result_the_store_refuses_is_a_failed_trial_not_a_lost_one(self, opener, sweep):
        refused = run_trial(sweep.grid.trials[0].config, sweep.grid.trials[0].trial_id)
        refused.config = {**refused.config, "bad*name": 1}  # a param name MLflow refuses
        store = opener.open(sweep.grid)
        assert store.log(refused, "refused") and store.log(sweep.results[1], "fine")
        parent_id = store.status()[2]
        store.close()
        if not self.records:
            return
        runs = {r.info.run_name: r for r in recorded(opener.client(), parent_id)}
        # Recorded as it is, or (where the store refuses it) FAILED saying why: never lost.
        if runs["refused"].info.status == "FAILED":
            assert runs["refused"].data.tags[contract.OUTCOME] == FAILED
            assert "refused" in runs["refused"].data.tags[contract.FAILURE_REASON]
        else:
            assert runs["refused"].data.params["bad*name"] == "1"
            assert runs["refused"].data.tags[contract.OUTCOME] == CONVERGED
        assert runs["fine"].data.tags[contract.OUTCOME] == CONVERGED

    def test_each_run_s_artifacts_are_where_the_store_keeps_them(self, opener, sweep):
        store = opener.open(sweep.grid)
        store.log(sweep.results[0], NAMES[0])
        store.finish(ParentSummary({}, {}, {"summary.txt": b"one"}, []), elapsed=1.0)
        parent_id = store.status()[2]
        store.close()
        if not self.records:
            return
        client = opener.client()
        files = (self.trial_file(client, parent_id), (parent_id, "summary.txt"))
        for run_id, name in files:
            assert client.get_run(run_id).info.artifact_uri.startswith(self.artifacts)
            with tempfile.TemporaryDirectory() as folder:  # downloaded through the store's own way
                assert Path(client.download_artifacts(run_id, name, folder)).stat().st_size > 0
