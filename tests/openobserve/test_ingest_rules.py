"""The emulator's record rules, pure functions: normalisation, flattening, `_timestamp`, window."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devstack.openobserve.ingest import (
    FLATTEN_NOT_OBJECT,
    RecordError,
    Window,
    flatten,
    format_key,
    format_stream_name,
    parse_timestamp,
    prepare,
)

NOW = 1_763_900_000_000_000  # 2025-11-23T12:13:20Z in µs


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("a.b-c", "a_b_c"),
        ("Query_Time", "query_time"),
        ("@timestamp", "_timestamp"),
        ("x..y", "x__y"),
        ("rows sent", "rows_sent"),
        ("naïve", "naïve"),  # Unicode letters are kept, and lower-cased
        ("café", "café"),
        ("Über", "über"),
        ("ÜBER-Größe", "über_größe"),
        ("日本", "__"),  # letters without case are not lower-case letters
        ("x²", "x²"),  # numerals are kept
        ("already_fine_1", "already_fine_1"),
    ],
)
def test_format_key(raw: str, expected: str) -> None:
    assert format_key(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("My-Stream.x", "my_stream_x"),
        ("a--..b", "a_b"),
        ("logs:prod", "logs:prod"),
        ("Aurora Slow  Logs", "aurora_slow_logs"),
    ],
)
def test_format_stream_name(raw: str, expected: str) -> None:
    assert format_stream_name(raw) == expected


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        ({"a": {"b": 1}}, {"a_b": 1}),
        ({"a": {"b": {"c": 1}}}, {"a_b_c": 1}),
        ({"a": {"b": {"c": {"d": 1}}}}, {"a_b_c": '{"d":1}'}),
        ({"tags": ["x", 1, None]}, {"tags": '["x",1,null]'}),
        ({"tags": [], "kept": 1}, {"kept": 1}),  # empty arrays are dropped
        ({"gone": None, "kept": 0}, {"kept": 0}),
        ({"empty": {}}, {}),
        ({"A.b": 1, "a_b": 2}, {"a_b": 2}),  # collisions overwrite
        ({"big": 2**70}, {"big": float(2**70)}),
        ({"ok": True, "f": 1.5, "s": "x"}, {"ok": True, "f": 1.5, "s": "x"}),
    ],
)
def test_flatten(record: dict[str, Any], expected: dict[str, Any]) -> None:
    assert flatten(record) == expected


def test_flatten_refuses_what_is_not_an_object() -> None:
    with pytest.raises(RecordError, match=FLATTEN_NOT_OBJECT):
        flatten([1, 2])


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=12,
)


@given(st.dictionaries(st.text(max_size=8), json_values, max_size=6))
def test_flattened_records_are_flat_normalised_and_null_free(record: dict[str, Any]) -> None:
    flat = flatten(record)
    for key, value in flat.items():
        # ASCII is [a-z0-9_]; other characters are what Rust's char rules keep (a capital
        # without a lower-case form, such as 𝔸, stays as it is).
        assert re.fullmatch(r"[a-z0-9_]*", "".join(c for c in key if c.isascii()))
        assert format_key(key) == key
        assert value is not None
        assert value != "[]"
        assert not isinstance(value, dict | list)


@given(st.text(max_size=20))
def test_stream_name_normalisation_is_idempotent(name: str) -> None:
    once = format_stream_name(name)
    assert format_stream_name(once) == once
    assert re.fullmatch(r"[a-z0-9_:]*", once)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1_700_000_000, 1_700_000_000_000_000),  # seconds
        (1_700_000_000_123, 1_700_000_000_123_000),  # milliseconds
        (1_700_000_000_123_456, 1_700_000_000_123_456),  # microseconds
        (1_700_000_000_123_456_789, 1_700_000_000_123_456),  # nanoseconds
        (1_700_000_000.9, 1_700_000_000_000_000),  # floats are truncated first
        ("1700000000123", 1_700_000_000_123_000),  # integer strings
        (0, NOW),  # zero means now
        ("2024-01-01 12:00:00", 1_704_110_400_000_000),
        ("2024-01-01T12:00:00", 1_704_110_400_000_000),
        ("2024-01-01T12:00:00.123", 1_704_110_400_123_000),
        ("2024-01-01T12:00:00.123456", 1_704_110_400_123_456),
        ("2024-01-01T12:00:00Z", 1_704_110_400_000_000),
        ("2024-01-01T12:00:00.5+02:00", 1_704_103_200_500_000),
        ("Mon, 01 Jan 2024 12:00:00 +0000", 1_704_110_400_000_000),
    ],
)
def test_parse_timestamp(value: Any, expected: int) -> None:
    assert parse_timestamp(value, NOW) == expected


@pytest.mark.parametrize(
    "value", ["2024-01-01 12:00:00.123", "yesterday", "2024-01-01T12:00:00.1234", True, {"a": 1}]
)
def test_unparseable_timestamps_fail_the_record(value: Any) -> None:
    with pytest.raises(RecordError) as info:
        parse_timestamp(value, NOW)
    assert info.value.kind == "timestamp_parsing_failed"


def test_window_messages_are_the_servers() -> None:
    window = Window(5, 24)
    hour = 3_600_000_000
    with pytest.raises(RecordError) as old:
        prepare({"_timestamp": NOW - 6 * hour}, window, NOW)
    assert str(old.value) == (
        "Too old data, only last 5 hours data can be ingested. Data discarded. You can adjust "
        "ingestion max time by setting the environment variable ZO_INGEST_ALLOWED_UPTO=<max_hours>"
    )
    with pytest.raises(RecordError) as far:
        prepare({"@timestamp": NOW + 25 * hour}, window, NOW)
    assert str(far.value).startswith("Too far data, only future 24 hours data can be ingested.")
    assert prepare({"msg": "x"}, window, NOW) == {"msg": "x", "_timestamp": NOW}
    assert prepare({"_timestamp": NOW - 4 * hour}, window, NOW)["_timestamp"] == NOW - 4 * hour
