"""The boundary search's logic against an oracle that diverges iff lr > c (no training)."""

import math

import pytest

from trainer.config.errors import ConfigError
from trainer.config.schema import BoundaryConf
from trainer.sweep.plan.searches.bisection import (
    DIVERGES_AT_LOW,
    FAILED_PROBE,
    FOUND,
    NO_DIVERGENCE,
    Settings,
    search_with,
)
from trainer.training.result import CONVERGED, DIVERGED, FAILED


def threshold_oracle(critical: list[float], log: list | None = None):
    """Point i diverges iff lr > critical[i]; every probe asked is appended to `log`."""

    def oracle(probe):
        if log is not None:
            log.append(probe)
        return DIVERGED if probe.lr > critical[probe.point] else CONVERGED

    return oracle


@pytest.mark.parametrize("cpus", [1, 2, 16])
def test_every_bracket_holds_its_critical_lr_within_rtol(cpus):
    critical = [0.04, 0.076, 0.0271, 0.05, 0.0999]
    settings = Settings(low=0.01, high=0.1, rtol=0.02)
    search = search_with(threshold_oracle(critical), len(critical), settings, cpus)
    for c, point in zip(critical, search.points, strict=True):
        assert point.status == FOUND
        assert point.low <= c < point.high
        assert (point.high - point.low) / point.low <= 0.02
        assert abs(point.lr_star / c - 1) <= 0.02


def test_bisection_over_one_decade_needs_nine_probes_per_point():
    critical = [0.03, 0.06]
    search = search_with(threshold_oracle(critical), 2, Settings(0.01, 0.1, 0.02), cpus=2)
    # 2 ends + 7 halvings: ln(10) / ln(1.02) = 116 parts need 2^7 = 128.
    assert [p.probes_used for p in search.points] == [9, 9]


def test_more_cpus_than_points_probe_several_lrs_per_round():
    log = []
    search = search_with(threshold_oracle([0.03], log), 1, Settings(0.01, 0.1, 0.02), cpus=8)
    rounds = {}
    for probe in log:
        rounds.setdefault(probe.round, []).append(probe.lr)
    assert len(rounds[2]) == 8
    # The ends, then 9 parts per round: 116 parts of the decade in ceil(log 116 / log 9) = 3.
    assert search.round == 1 + 3 and search.points[0].status == FOUND


def test_same_inputs_give_the_same_probes():
    first, second = [], []
    critical = [0.031, 0.2, 0.0005]
    settings = Settings(0.01, 0.1, 0.02, max_decades=2)
    search_with(threshold_oracle(critical, first), 3, settings, cpus=2)
    search_with(threshold_oracle(critical, second), 3, settings, cpus=2)
    assert first == second


def test_bracket_widens_by_decades_both_ways():
    critical = [0.3, 0.003]
    search = search_with(threshold_oracle(critical), 2, Settings(0.01, 0.1, 0.02), cpus=2)
    up, down = search.points
    assert up.status == down.status == FOUND
    assert up.decades_widened == down.decades_widened == 1
    assert up.low <= 0.3 < up.high and down.low <= 0.003 < down.high


def test_no_boundary_in_range_is_a_result_either_way():
    critical = [1e6, 1e-9]
    settings = Settings(0.01, 0.1, 0.02, max_decades=2)
    search = search_with(threshold_oracle(critical), 2, settings, cpus=2)
    never, always = search.points
    assert never.status == NO_DIVERGENCE and never.high == pytest.approx(10.0)
    assert always.status == DIVERGES_AT_LOW and always.low == pytest.approx(1e-4)
    assert never.lr_star is None and always.lr_star is None


def test_a_failed_probe_ends_its_point_only():
    def oracle(probe):
        if probe.point == 0:
            return FAILED
        return DIVERGED if probe.lr > 0.05 else CONVERGED

    search = search_with(oracle, 2, Settings(0.01, 0.1, 0.02), cpus=2)
    assert [p.status for p in search.points] == [FAILED_PROBE, FOUND]


def test_round_cap_stops_and_a_rerun_retraces_the_same_probes():
    critical = [0.04, 0.07]
    full_log, capped_log = [], []
    full = search_with(threshold_oracle(critical, full_log), 2, Settings(0.01, 0.1, 0.02), cpus=2)
    capped_settings = Settings(0.01, 0.1, 0.02, max_rounds=3)
    capped = search_with(threshold_oracle(critical, capped_log), 2, capped_settings, cpus=2)
    assert capped.capped and not capped.done
    assert capped_log == full_log[: len(capped_log)]
    assert [p.lr_star for p in full.points] == [math.sqrt(p.low * p.high) for p in full.points]


@pytest.mark.parametrize(
    "values, key",
    [
        ({"low": 0.0}, "low"),
        ({"low": 0.1, "high": 0.1}, "high"),
        ({"rtol": 0.0}, "rtol"),
        ({"rtol": 2.0}, "rtol"),
        ({"max_decades": -1}, "max_decades"),
        ({"probes": 0}, "probes"),
        ({"max_rounds": 0}, "max_rounds"),
    ],
)
def test_bad_settings_name_the_key(values, key):
    config = {**vars(BoundaryConf()), **values}
    with pytest.raises(ConfigError, match=f"sweep.boundary.{key}="):
        Settings.from_config(config)
