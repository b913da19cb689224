"""A hung test is stopped and named, even when it hangs where pytest-timeout cannot reach it.

pytest-timeout's `signal` method (pyproject.toml) fails a test that outlives its `timeout` with a
traceback, and the session goes on. It raises from a SIGALRM handler, which runs only when the
main thread runs Python again: a test stuck in `ray.get`, whose C++ wait runs the handler and
carries on waiting, hangs on. So each test also gets a timer: still running a grace after its
timeout, it dumps every thread's stack and ends this process. Under pytest-xdist (the README's
commands) that process is one worker, which xdist reports as "crashed while running <test>", that
test failed, and replaces; the session goes on. In a single process (-n 0) the session ends
there, the test named above the stacks.

The crashed worker's unfinished work goes to its replacement, the test that hung included: that
one is skipped there (it has failed already), not left to hang once more. pytest-xdist's
`loadgroup` hands out the crashed worker's finished tests again too, as work with nothing left
to run, and gives the replacement one unit of work where the first workers get two; a worker
holding one test waits for the next before it runs it (to know what to tear down), and the
session waited forever. `UnfinishedWorkRequeued` re-queues only what is unfinished and gives a
replacement two units, as the first workers get.

tests/conftest.py imports the hooks, so they apply to the whole suite.
"""

import faulthandler
import hashlib
import os
import sys
import tempfile
import threading
from pathlib import Path

import pytest
from xdist.scheduler import LoadGroupScheduling


def timeout_of(item: pytest.Item) -> float:
    """The test's pytest-timeout timeout: its `timeout` mark, else --timeout, else the ini's."""
    marker = item.get_closest_marker("timeout")
    if marker is not None and (marker.args or "timeout" in marker.kwargs):
        return float(marker.args[0] if marker.args else marker.kwargs["timeout"])
    try:
        value = item.config.getoption("timeout", None) or item.config.getini("timeout")
    except ValueError:  # pytest-timeout not loaded: no timeout
        return 0.0
    return float(value or 0)


def grace(timeout: float) -> float:
    """How long after its timeout a test is stopped the hard way: a quarter of the timeout,
    at least 5 s and at most 30 s."""
    return min(30.0, max(5.0, timeout / 4))


def stopped_mark(item: pytest.Item) -> Path | None:
    """Where a worker notes that it stopped this test, for the workers of this run (xdist's
    run id) to see; None in a single process, where nothing runs after a stop."""
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID")
    if not run:
        return None
    name = hashlib.sha256(item.nodeid.encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"pytest-hard-timeout-{run}" / name


def stop(item: pytest.Item, timeout: float) -> None:
    """Name the test and dump every thread's stack where they are seen (not captured), then end
    the process."""
    try:
        mark = stopped_mark(item)
        if mark is not None:
            mark.parent.mkdir(exist_ok=True)
            mark.write_text(item.nodeid)
        capture = item.config.pluginmanager.getplugin("capturemanager")
        if capture is not None:
            capture.suspend_global_capture(in_=True)
        message = (
            f"\n{'+' * 20} hard timeout {'+' * 20}\n{item.nodeid} is still running "
            f"{grace(timeout):.0f} s past its {timeout:.0f} s timeout, where pytest-timeout's "
            "signal did not reach it: every thread's stack, then this process ends\n"
        )
        sys.stderr.write(message)
        sys.stderr.flush()
        faulthandler.dump_traceback(file=sys.stderr, all_threads=True)
    finally:
        sys.stderr.flush()
        os._exit(1)


class UnfinishedWorkRequeued(LoadGroupScheduling):
    """`--dist loadgroup` that hands a crashed worker's unfinished tests, and only those, to its
    replacement, two units of work at a time."""

    def remove_node(self, node):
        workload = self.assigned_work.get(node, {})
        for scope in [scope for scope, tests in workload.items() if all(tests.values())]:
            del workload[scope]
        return super().remove_node(node)

    def schedule(self):
        replacement = self.collection is not None  # the first distribution is done
        super().schedule()
        if replacement:
            for node in self.nodes:
                self._reschedule(node)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    if config.getvalue("dist") == "loadgroup":
        return UnfinishedWorkRequeued(config, log)
    return None


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    mark = stopped_mark(item)
    if mark is not None and mark.exists():
        pytest.skip("stopped by the hard timeout in a worker that ended: reported failed there")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    timeout = timeout_of(item)
    if timeout <= 0 or item.config.getoption("usepdb", False):  # a debugger's pause is no hang
        yield
        return
    timer = threading.Timer(timeout + grace(timeout), stop, (item, timeout))
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
