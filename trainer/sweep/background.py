"""Work overlapped with Ray's start runs at a lower priority, on the CPU Ray's start leaves idle.

A local Ray's start is a few processes waking each other and polling once a second; work that
shares the cores with it (the store process's MLflow import, the trials' datasets) at the same
priority delays it by most of a second (the default sweep: Ray ready 0.7 s later). At a lower
priority that work fills the gaps instead. Linux gives each thread its own nice value: only the
thread doing that work is lowered, and it ends with it.
"""

import os
import sys
import threading
from collections.abc import Callable

NICENESS = 10  # added to the thread's nice value (at most 19); 5 left Ray's start 0.2 s slower


def lower_this_thread() -> None:
    """The calling thread yields the CPU to the machine's other work (Linux; elsewhere no-op)."""
    if not sys.platform.startswith("linux"):
        return
    thread = threading.get_native_id()
    try:
        os.setpriority(
            os.PRIO_PROCESS, thread, min(19, os.getpriority(os.PRIO_PROCESS, thread) + NICENESS)
        )
    except OSError:
        return


def at_low_priority(work: Callable[[], None]) -> None:
    """`work()` in a thread of lower priority, waited for; its exception raised here."""
    failed = []

    def run() -> None:
        lower_this_thread()
        try:
            work()
        except BaseException as error:
            failed.append(error)

    thread = threading.Thread(target=run, name="low-priority")
    thread.start()
    thread.join()
    if failed:
        raise failed[0]
