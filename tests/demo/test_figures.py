"""The pure arithmetic of the demo's report and the pipeline bench (devstack/figures.py,
devstack/pipeline.start_time, devstack/measure.freshness_of)."""

from __future__ import annotations

import statistics
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devstack.figures import ClockMap, covered, per_gb, percentile, rate, rates
from devstack.measure import freshness_of
from devstack.pipeline import start_time

finite = st.floats(min_value=-1e9, max_value=1e9, allow_nan=False)


def test_percentile_interpolates_between_ranks() -> None:
    assert percentile([], 50) is None
    assert percentile([7.0], 95) == 7.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5
    assert percentile([10.0, 0.0, 5.0], 100) == 10.0
    assert percentile([10.0, 0.0, 5.0], 0) == 0.0
    assert percentile([0.0, 10.0], 95) == pytest.approx(9.5)
    with pytest.raises(ValueError):
        percentile([1.0], 101)


@given(st.lists(finite, min_size=1, max_size=50), st.floats(min_value=0, max_value=100))
def test_percentile_lies_within_the_values_and_matches_the_median(
    values: list[float], q: float
) -> None:
    got = percentile(values, q)
    assert got is not None
    assert min(values) <= got <= max(values)
    median = percentile(values, 50)
    assert median == pytest.approx(statistics.median(values), rel=1e-9, abs=1e-6)


def test_rate_of_a_counter_and_of_one_that_restarted() -> None:
    assert rate(100.0, 160.0, 2.0) == 30.0
    assert rate(100.0, 40.0, 2.0) == 20.0  # the process restarted: counts from zero
    assert rate(1.0, 2.0, 0.0) == 0.0
    assert rates({"a": 1.0}, {"a": 3.0, "b": 4.0}, 2.0) == {"a": 1.0, "b": 2.0}


def test_per_gb() -> None:
    assert per_gb(50, 500_000_000) == 100.0
    assert per_gb(50, 0) is None


def test_clock_map_turns_emulated_time_into_wall_time() -> None:
    clock = ClockMap(wall=1_000.0, emulated=50_000.0, speed=10.0)
    assert clock.to_wall(50_000.0) == 1_000.0
    assert clock.to_wall(49_900.0) == 990.0  # 100 emulated s = 10 wall s earlier
    with pytest.raises(ValueError):
        ClockMap(0.0, 0.0, 0.0).to_wall(1.0)


def test_freshness_leaves_out_lines_written_before_the_services_started() -> None:
    clock = ClockMap(wall=1_000.0, emulated=50_000.0, speed=10.0)
    iso = datetime.fromtimestamp(49_900.0, UTC).isoformat()
    older = datetime.fromtimestamp(49_000.0, UTC).isoformat()
    rows = [[iso, 995_000_000], [older, 996_000_000], [None, 1], ["x", None]]
    assert freshness_of(rows, clock, since_emulated=49_500.0) == [pytest.approx(5.0)]


def test_covered_counts_the_union_and_the_overlap() -> None:
    assert covered([]) == (0, 0)
    assert covered([(0, 10), (10, 20)]) == (20, 0)
    assert covered([(0, 10), (5, 15)]) == (15, 5)
    assert covered([(0, 10), (0, 10)]) == (10, 10)
    assert covered([(20, 30), (0, 5), (3, 4)]) == (15, 1)
    assert covered([(5, 5)]) == (0, 0)


@given(st.lists(st.tuples(st.integers(0, 200), st.integers(0, 50)), max_size=20))
def test_covered_matches_a_byte_map(spans: list[tuple[int, int]]) -> None:
    ranges = [(s, s + n) for s, n in spans]
    hits = [0] * 260
    for s, e in ranges:
        for i in range(s, e):
            hits[i] += 1
    union, overlap = covered(ranges)
    assert union == sum(1 for h in hits if h)
    assert overlap == sum(h - 1 for h in hits if h > 1)


def test_start_time_puts_the_hour_the_asked_delay_after_start() -> None:
    now = datetime(2026, 11, 25, 15, 12, 30, tzinfo=UTC).timestamp()
    start = start_time(now, speed=10.0, rotation_after_sec=40.0)
    assert datetime.fromtimestamp(start + 400, UTC) == datetime(2026, 11, 25, 16, tzinfo=UTC)
    with pytest.raises(ValueError):
        start_time(now, speed=100.0, rotation_after_sec=40.0)
