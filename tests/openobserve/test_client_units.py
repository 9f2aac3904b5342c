"""The client's pure parts: encoding and byte-bounded batches, backoff, the window."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from common.settings import OpenObserveSettings
from processor.sinks.openobserve import InvalidEvent, batches
from processor.sinks.openobserve.retry import Backoff, is_retryable, parse_retry_after
from processor.sinks.openobserve.window import HOUR_US, Window


def event(i: int, pad: int = 0) -> dict[str, Any]:
    return {"event_id": f"e{i}", "batch_id": "b", "_timestamp": 1_000 + i, "pad": "x" * pad}


@given(st.lists(st.integers(0, 300), max_size=40), st.integers(64, 2_000))
def test_batches_stay_within_bytes_and_keep_every_event_in_order(
    pads: list[int], max_bytes: int
) -> None:
    items = [batches.encode(event(i, pad)) for i, pad in enumerate(pads)]
    cut = list(batches.cut(items, max_bytes))
    assert [i for chunk in cut for i in chunk] == items
    for chunk in cut:
        body = batches.payload(chunk)
        assert len(body) <= max_bytes or len(chunk) == 1
        assert [e["event_id"] for e in json.loads(body)] == [i.event_id for i in chunk]


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"batch_id": "b", "_timestamp": 1}, "event_id"),
        ({"event_id": "e", "_timestamp": 1}, "batch_id"),
        ({"event_id": "e", "batch_id": "b", "_timestamp": "now"}, "_timestamp"),
        ({"event_id": "e", "batch_id": "b", "_timestamp": True}, "_timestamp"),
        ({"event_id": "e", "batch_id": "b", "_timestamp": 1, "v": float("inf")}, "JSON"),
        ({"event_id": "e", "batch_id": "b", "_timestamp": 1, "v": object()}, "JSON"),
    ],
)
def test_invalid_events_are_refused_with_the_reason(bad: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidEvent, match=message):
        batches.encode(bad)


def test_with_timestamp_copies() -> None:
    original = event(1)
    moved = batches.with_timestamp(batches.encode(original), 42)
    assert json.loads(moved.body)["_timestamp"] == 42
    assert original["_timestamp"] == 1001


@given(st.integers(1, 30), st.floats(0.001, 5), st.floats(0.001, 60))
def test_backoff_is_bounded_by_cap_and_exponential_ceiling(
    retry: int, base: float, cap: float
) -> None:
    delay = Backoff(base, cap, random.Random(retry)).delay(retry)
    assert 0 <= delay <= min(cap, base * 2 ** (retry - 1))


def test_retry_after_is_honoured_up_to_the_cap() -> None:
    backoff = Backoff(0.001, 2.0, random.Random(1))
    assert backoff.delay(1, retry_after=1.5) >= 1.5
    assert backoff.delay(1, retry_after=100) <= 2.0
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after("Wed, 21 Oct 2026 07:28:00 GMT") is None


@pytest.mark.parametrize(
    ("status", "retry"), [(408, True), (429, True), (500, True), (503, True), (400, False),
                          (401, False), (403, False), (404, False), (413, False)]
)  # fmt: skip
def test_retryable_statuses(status: int, retry: bool) -> None:
    assert is_retryable(status) is retry


def test_window_with_margin() -> None:
    window = Window.from_settings(
        OpenObserveSettings(openobserve_ingest_window_hours=5, openobserve_window_margin_sec=600)
    )
    now = 100 * HOUR_US
    assert not window.outside(now - 4 * HOUR_US, now)
    assert window.outside(now - 5 * HOUR_US + 1, now)  # inside the server's, not the margin
    assert window.outside(now + 24 * HOUR_US, now)
    assert window.suspect(now - HOUR_US, now, "Too old data, only last 1 hours ...")
    assert not window.suspect(now, now, "Too old data, only last 1 hours ...")
    assert not window.suspect(now - HOUR_US, now, "injected failure")


def test_every_error_says_whether_it_is_retriable() -> None:
    from processor.sinks.openobserve import errors

    expected: dict[type[errors.OpenObserveError], bool] = {
        errors.OpenObserveError: False,
        errors.InvalidEvent: False,
        errors.SearchError: False,
        errors.QueryRefused: False,
        errors.OrganizationNotFound: False,
        errors.SearchUnavailable: True,
        errors.PartialAnswer: True,
        errors.BadAnswer: True,
    }
    for cls, retriable in expected.items():
        assert "retriable" in vars(cls), cls  # declared on the class itself, not inherited
        assert cls.retriable is retriable, cls
    refused = errors.QueryRefused("x", 400, '{"code":20008,"message":"m"}')
    assert (refused.code, refused.nothing_stored) == (20008, False)
    assert errors.SearchError("x", 400, '{"code":20002}').nothing_stored
    assert errors.OrganizationNotFound("x", 404, "Organization not found").code is None


@given(
    st.sets(st.sampled_from("abcdefgh")),
    st.sets(st.sampled_from("abcdefghij")),
    st.booleans(),
)
def test_a_stored_check_puts_each_asked_id_in_exactly_one_set(
    asked: set[str], found: set[str], unsure: bool
) -> None:
    from processor.sinks.openobserve import Presence, StoredCheck

    check = StoredCheck.build(sorted(asked), found, unsure, ["partial_answer: x"] if unsure else [])
    for event_id in asked:
        sets = [event_id in s for s in (check.stored, check.absent, check.unknown)]
        assert sum(sets) == 1
        assert (check.of(event_id) is Presence.STORED) == (event_id in found)
    assert check.stored | check.absent | check.unknown == frozenset(asked)
    assert not (unsure and check.absent)  # an unsure answer never proves absence


@given(st.integers(0, 10**12), st.integers(0, 10**12), st.sampled_from([0.5, 1.0, 24.0]))
def test_search_windows_cover_the_range_in_pieces_within_the_max(
    start: int, length: int, hours: float
) -> None:
    from processor.sinks.openobserve.search import windows

    pieces = windows(start, start + length, int(hours * HOUR_US))
    assert (pieces[0][0] if pieces else start) == start
    assert all(a < b <= a + int(hours * HOUR_US) for a, b in pieces)
    assert all(pieces[i][1] == pieces[i + 1][0] for i in range(len(pieces) - 1))
    assert (pieces[-1][1] if pieces else start) == start + length
