"""The store in a child process: opened while Ray starts, written in order, and when it fails."""

import os
import signal

import pytest
from mlflow import MlflowClient
from support import children, history_steps, parents, process_store, sqlite_uri, store_context

from trainer import contract
from trainer.config.compose import hydra_context
from trainer.config.errors import ConfigError
from trainer.sweep.plan.grid import expand
from trainer.sweep.record.store_process import ProcessBackend
from trainer.training.trial import run_trial

pytestmark = pytest.mark.slow  # each test forks the store process

GRID = ["task=quadratic", "optimizer=momentum", "optimizer.lr=0.01,0.02", "trainer.steps=5"]


def grid():
    with hydra_context() as loader:
        return expand({}, GRID, loader)


@pytest.mark.usefixtures("sqlite_store")
def test_a_new_store_is_created_with_its_parent_run_and_nothing_finished(tmp_path):
    uri = sqlite_uri(tmp_path)
    sweep = grid()
    store = process_store(uri, sweep)
    assert store.finished == {}
    store.close()
    [parent] = parents(MlflowClient(uri))
    assert parent.data.tags[contract.SWEEP_ID] == sweep.sweep_id
    assert parent.info.run_name == "sweep mine"


def test_a_store_mlflow_refuses_is_one_clear_error(tmp_path):
    (tmp_path / "mlflow.db").write_text("a text file, not a sqlite database")
    opening = ProcessBackend(store_context(sqlite_uri(tmp_path), grid()))
    with pytest.raises(ConfigError, match="tracking.uri=sqlite:///.*file is not a database"):
        opening.ready()


@pytest.mark.usefixtures("sqlite_store")
def test_results_are_logged_by_the_child_and_kept_in_the_spool_once_it_is_gone(tmp_path):
    uri, sweep = sqlite_uri(tmp_path), grid()
    first, second = (run_trial(t.config, t.trial_id) for t in sweep.trials)
    store = process_store(uri, sweep)
    assert store.log(first, "first")
    os.kill(store.backend._child.pid, signal.SIGKILL)
    store.backend._child.join()

    assert not store.log(second, "second")
    down, _, _ = store.status()
    assert "ended" in down
    assert [r.trial_id for r in store.spool.load()] == [second.trial_id]
    assert store.drain() == 1  # the store is gone: it stays spooled, under its own name
    assert [r.trial_id for r in store.spool.load()] == [second.trial_id]
    store.close()
    client = MlflowClient(uri)
    [parent] = parents(client)
    [child] = children(client, parent.info.run_id)
    assert child.data.tags[contract.TRIAL_ID] == first.trial_id
    assert history_steps(client, child.info.run_id) == list(range(first.steps_run))


@pytest.mark.usefixtures("sqlite_store")
def test_a_store_process_started_early_opens_the_sweep_it_is_sent_later(tmp_path):
    from trainer.sweep.record.open import open_store
    from trainer.sweep.record.store_process import open_in_background, start_early

    uri, sweep = sqlite_uri(tmp_path), grid()
    early = start_early()
    context = store_context(uri, sweep)
    assert open_in_background(context, early) is early
    store = open_store(context, early)
    assert store.backend is early and store.finished == {}
    store.close()
    [parent] = parents(MlflowClient(uri))
    assert parent.data.tags[contract.SWEEP_ID] == sweep.sweep_id


def test_a_store_process_started_early_and_not_needed_ends_having_written_nothing(tmp_path):
    from trainer.sweep.record.store_process import start_early

    early = start_early()
    early.discard()
    assert not early._child.is_alive()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.timeout(90)  # without one call at a time, the answers cross and both wait forever
@pytest.mark.usefixtures("sqlite_store")
def test_calls_from_two_threads_at_once_are_each_answered_and_log_each_run_once(tmp_path):
    """The driver logs its last results in a thread while it draws the summary, and a Ctrl-C
    there may end the parent from the main thread: the pipe carries one call at a time."""
    from concurrent.futures import ThreadPoolExecutor

    uri, sweep = sqlite_uri(tmp_path), grid()
    results = [run_trial(t.config, t.trial_id) for t in sweep.trials]
    store = process_store(uri, sweep)
    with ThreadPoolExecutor(max_workers=2) as pool:
        logged = pool.submit(store.backend.write_many, results, ["a", "b"], [{}, {}])
        asked = [pool.submit(store.backend.progress) for _ in range(20)]
        assert logged.result() == (2, None)
        for answer in asked:
            seconds, parent_id = answer.result()
            assert seconds >= 0 and parent_id is not None
    store.close()
    client = MlflowClient(uri)
    [parent] = parents(client)
    assert sorted(c.info.run_name for c in children(client, parent.info.run_id)) == ["a", "b"]


class CtrlCAt:
    """The driver's end of the pipe, with a Ctrl-C pressed as `method` is called (or just as
    it returns): the moment a user's second Ctrl-C can land in a call."""

    def __init__(self, conn, method: str, after: bool):
        self.conn, self.method, self.after, self.pressed = conn, method, after, False

    def __getattr__(self, name):
        real = getattr(self.conn, name)
        if name != self.method or self.pressed:
            return real

        def pressed_then(*args):
            self.pressed = True
            if not self.after:
                os.kill(os.getpid(), signal.SIGINT)
            answer = real(*args)
            if self.after:
                os.kill(os.getpid(), signal.SIGINT)
            return answer

        return pressed_then


@pytest.mark.timeout(90)  # out of step, the abort's call would wait forever for its answer
@pytest.mark.parametrize(
    "method, after",
    [("send", False), ("send", True), ("poll", False), ("recv", False), ("recv", True)],
)
@pytest.mark.usefixtures("sqlite_store")
def test_a_ctrl_c_at_any_step_of_a_call_leaves_the_store_answering_the_next(
    tmp_path, method, after
):
    """A second Ctrl-C stops the driver wherever it is; the pipe to the store process stays
    in step, so the parent still ends KILLED, and the result in hand is logged once."""
    uri, sweep = sqlite_uri(tmp_path), grid()
    result = run_trial(sweep.trials[0].config, sweep.trials[0].trial_id)
    store = process_store(uri, sweep)
    pipe = store.backend._conn
    store.backend._conn = CtrlCAt(pipe, method, after)
    with pytest.raises(KeyboardInterrupt):
        store.log(result, "in hand")
    assert store.backend._conn.pressed
    store.backend._conn = pipe
    store.abort("KILLED", "stopped by Ctrl-C")
    store.close()
    client = MlflowClient(uri)
    [parent] = parents(client)
    assert parent.info.status == "KILLED"
    assert parent.data.tags[contract.FAILURE_REASON] == "stopped by Ctrl-C"
    assert [c.info.run_name for c in children(client, parent.info.run_id)] == ["in hand"]
