"""Work overlapped with Ray's start runs in a thread of lower priority; the caller's is kept."""

import os
import sys
import threading

import pytest

from trainer.sweep.background import NICENESS, at_low_priority

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="a nice value per thread is Linux's"
)


def priority() -> int:
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


def test_only_the_thread_doing_the_work_is_lowered():
    before, seen = priority(), []
    at_low_priority(lambda: seen.append(priority()))
    assert seen == [min(19, before + NICENESS)]
    assert priority() == before


def test_the_works_error_is_raised_in_the_caller():
    def work():
        raise ValueError("no such dataset")

    with pytest.raises(ValueError, match="no such dataset"):
        at_low_priority(work)
