"""A module's slow tests run in one pytest-xdist worker: their group reaches the scheduler."""

import os

import pytest


@pytest.mark.slow  # slow only by its mark: a module's slow tests are the ones grouped
def test_a_slow_test_carries_its_modules_group_to_the_scheduler(request):
    if "PYTEST_XDIST_WORKER" not in os.environ:
        return  # one process (-n 0): nothing to group
    assert request.config.getvalue("loadgroup"), "the workers are not told --dist loadgroup"
    # pytest-xdist's loadgroup names the group in the node id; a pytest whose node ids lose it
    # (pytest-xdist#1386) would set up each slow module's servers and clusters in both workers.
    assert request.node.nodeid.endswith("@test_grouping"), request.node.nodeid
