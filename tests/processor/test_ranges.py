"""Ranges tile the file, never split an entry, carry the parser state, and re-cut identically."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from common.log_types import LOG_TYPES
from processor.parsers import parser_for
from processor.ranges import Range, RangeCutter
from tests.parsers.helpers import sample


def _one_shot(log_type: str, data: bytes) -> list[tuple[int, int, dict[str, object]]]:
    parser = parser_for(log_type, 0)
    events = parser.feed(data) + parser.flush()
    return [(e.start, e.end, e.to_dict()) for e in events]


def _cut(log_type: str, data: bytes, chunks: list[int], target: int) -> list[Range]:
    cutter = RangeCutter(log_type, 0, {}, target)
    ranges: list[Range] = []
    pos = 0
    for size in chunks:
        ranges += cutter.feed(data[pos : pos + size])
        pos += size
    ranges += cutter.feed(data[pos:])
    return ranges + cutter.finish()


@pytest.mark.parametrize("log_type", LOG_TYPES)
@settings(max_examples=25, deadline=None)
@given(
    chunks=st.lists(st.integers(min_value=1, max_value=700), max_size=12),
    target=st.integers(min_value=1, max_value=3000),
)
def test_ranges_tile_the_file_and_hold_exactly_the_one_shot_events(
    log_type: str, chunks: list[int], target: int
) -> None:
    data = sample(log_type)
    ranges = _cut(log_type, data, chunks, target)
    assert ranges[0].start == 0 and ranges[-1].end == len(data)
    assert all(a.end == b.start for a, b in itertools.pairwise(ranges))
    for r in ranges:
        assert all(r.start <= e.start and e.end <= r.end for e in r.events)
    got = [(e.start, e.end, e.to_dict()) for r in ranges for e in r.events]
    assert got == _one_shot(log_type, data)


@pytest.mark.parametrize("log_type", LOG_TYPES)
def test_a_range_state_resumes_a_new_parser_with_the_same_events(log_type: str) -> None:
    data = sample(log_type)
    ranges = _cut(log_type, data, [97] * 40, 150)
    assert len(ranges) > 2, "the sample is too short to cut"
    middle = ranges[len(ranges) // 2]
    resumed = RangeCutter(log_type, middle.end, middle.state, 10**9)
    rest = resumed.feed(data[middle.end :]) + resumed.finish()
    expected = [e for e in _one_shot(log_type, data) if e[0] >= middle.end]
    assert [(e.start, e.end, e.to_dict()) for r in rest for e in r.events] == expected


@pytest.mark.parametrize("log_type", LOG_TYPES)
def test_recovery_re_cuts_the_pending_range_exactly(log_type: str) -> None:
    data = sample(log_type)
    ranges = _cut(log_type, data, [131] * 40, 150)
    pending = ranges[1]
    start = ranges[0]
    again = RangeCutter(
        log_type,
        pending.start,
        start.state,
        10**9,
        first_end=pending.end,
        first_state=pending.state,
    )
    recut = again.feed(data[pending.start :]) + again.finish()
    assert (recut[0].start, recut[0].end, recut[0].state) == (
        pending.start,
        pending.end,
        pending.state,
    )
    assert [e.to_dict() for e in recut[0].events] == [e.to_dict() for e in pending.events]
    assert recut[1].start == pending.end


def test_the_slow_log_database_travels_with_the_range() -> None:
    ranges = _cut("slowquery", sample("slowquery"), [97] * 80, 150)
    assert any(r.state.get("db") for r in ranges), [r.state for r in ranges]


def test_bytes_that_do_not_match_the_intent_are_refused() -> None:
    data = sample("slowquery")
    ranges = _cut("slowquery", data, [4096] * 20, 150)
    inside = ranges[0].events[-1].start + 3  # not an entry boundary
    cutter = RangeCutter("slowquery", 0, {}, 10**9, first_end=inside, first_state={})
    with pytest.raises(ValueError, match="inside the entry"):
        cutter.feed(data)
        cutter.finish()
